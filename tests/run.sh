#!/usr/bin/env bash
# tests/run.sh: every test suite of podfs, with one summary line at the end.
#
#   tests/run.sh            all suites (normal build, sanitizer build, valgrind)
#   tests/run.sh quick      unit, manifest fixtures and fuzz corpus replays, normal build only
#
# Each suite prints "ok N - ..." lines and its own "P passed, F failed";
# the totals are summed into the final "N passed, N failed" line. A suite
# that exits 77 is reported as skipped with its reason (and counts nothing).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MODE=${1:-all}
TOTAL_P=0 TOTAL_F=0 SKIPPED=()
LOGDIR=$(mktemp -d /tmp/podfs-tests.XXXXXX)
trap 'rm -rf "$LOGDIR"' EXIT

# suite NAME CMD...: run CMD, echo its output, add its counts.
suite() {
  local name=$1; shift
  local log="$LOGDIR/$(echo "$name" | tr -c 'A-Za-z0-9_\n-' _).log"
  echo "=== $name"
  # a suite that hangs fails instead of wedging the run
  timeout -k 10 1500 "$@" >"$log" 2>&1
  local rc=$?
  cat "$log"
  local line p f
  line=$(grep -E '^(# )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ "$rc" -eq 77 ]; then
    SKIPPED+=("$name")
    return
  fi
  if [ -z "$line" ]; then
    echo "not ok - $name: no summary line (exit $rc)"
    TOTAL_F=$((TOTAL_F + 1))
    return
  fi
  p=$(sed -E 's/^(# )?([0-9]+) passed.*/\2/' <<<"$line")
  f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "not ok - $name exited $rc"
    f=1
  fi
  TOTAL_P=$((TOTAL_P + p))
  TOTAL_F=$((TOTAL_F + f))
}

# run the unit binaries of one build dir as one suite each
unit_suites() {
  local build=$1 tag=$2 wrap=${3:-}
  for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    suite "$tag $(basename "$t")" $wrap "$t"
  done
  suite "$tag manifest fixtures" tests/t0002-validate.sh "$build/podfs"
  suite "$tag fuzz corpus replay" "$build/tests/fuzz_spec_replay" tests/fuzz/corpus
  for f in registry image cni podlog; do
    suite "$tag fuzz $f corpus replay" "$build/tests/fuzz_${f}_replay" "tests/fuzz/corpus-$f"
  done
}

make -s all unit >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
unit_suites build normal

if [ "$MODE" != quick ]; then
  if make -s SANITIZE=address,undefined all unit >/dev/null; then
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      unit_suites build-san "asan+ubsan"
  else
    echo "not ok - sanitizer build failed"; TOTAL_F=$((TOTAL_F + 1))
  fi
  if command -v valgrind >/dev/null; then
    for t in build/tests/test_*; do
      suite "valgrind $(basename "$t")" valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 "$t"
    done
  fi
  for t in tests/t[0-9]*.sh; do
    [ "$t" = tests/t0002-validate.sh ] && continue
    suite "$(basename "$t" .sh)" bash "$t"
  done
  # the daemon itself under ASan/UBSan (leaks are for the unit tests:
  # podfs keeps its inode table for the mount's life)
  PODFS=build-san/podfs ASAN_OPTIONS=detect_leaks=0 \
    suite "asan+ubsan t0010-mount" tests/t0010-mount.sh
fi

for s in "${SKIPPED[@]+"${SKIPPED[@]}"}"; do echo "skipped: $s"; done
echo "$TOTAL_P passed, $TOTAL_F failed"
[ "$TOTAL_F" -eq 0 ]
