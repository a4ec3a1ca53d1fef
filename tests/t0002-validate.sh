#!/usr/bin/env bash
# t0002-validate: `podfs validate` on the manifest fixtures.
#   tests/fixtures/valid/*.yaml and the seed's valid pods must pass (exit 0,
#   JSON on stdout); every tests/fixtures/invalid/*.yaml must fail (exit 1,
#   nothing on stdout) with each of its "# expect: TEXT" lines found in the
#   error output. Seed fixtures carry their own expectations too.
# usage: t0002-validate.sh PATH/TO/podfs
set -uo pipefail
PODFS=$(realpath "${1:-build/podfs}")
cd "$(dirname "${BASH_SOURCE[0]}")/fixtures"
N=0 PASS=0 FAIL=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

ok() { N=$((N + 1)); PASS=$((PASS + 1)); echo "ok $N - $1"; }
nok() {
  N=$((N + 1)); FAIL=$((FAIL + 1)); echo "not ok $N - $1"
  sed 's/^/#   /' "$err" | head -n 20
}

shopt -s nullglob
for f in valid/*.yaml seed/simple-pod.yaml seed/resources.yaml; do
  if "$PODFS" validate "$f" >"$out" 2>"$err" && [ -s "$out" ] && [ ! -s "$err" ]; then
    ok "valid: $f"
  else
    nok "valid: $f"
  fi
done

for f in invalid/*.yaml seed/init-containers.yaml seed/init-containers-verbatim.yaml seed/env.yaml; do
  "$PODFS" validate "$f" >"$out" 2>"$err"
  rc=$?
  desc="invalid: $f"
  if [ "$rc" -ne 1 ]; then nok "$desc (exit $rc, want 1)"; continue; fi
  if [ -s "$out" ]; then nok "$desc (printed a spec)"; continue; fi
  missing=""
  while IFS= read -r want; do
    grep -qF -- "$want" "$err" || missing="$missing [$want]"
  done < <(sed -n 's/^# expect: //p' "$f")
  if ! grep -q '^# expect: ' "$f"; then missing=" (fixture has no '# expect:' line)"; fi
  if [ -n "$missing" ]; then nok "$desc: missing$missing"; else ok "$desc"; fi
done

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
