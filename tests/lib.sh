# tests/lib.sh: helpers for the shell tests (sourced). A test mounts its own
# podfs on a temporary directory with its own state dir, runs named checks,
# and cleans up in a trap (pods deleted, mount gone, no podfs left).
#
#   . tests/lib.sh
#   podfs_start [extra podfs args]      # sets MNT, STATE, T
#   check "description" cmd...          # one named test
#   wait_for SECONDS cmd...             # poll until cmd succeeds
#   finish                              # summary line, exit status
# and helpers to make pods and read them (pod, st, c0, st_cmp, ...) and
# to check what is left behind (run_dir, runc_ids, runc_running, veths).
# A test may define a function of the same name after sourcing this file;
# its own then wins (the helpers here call none of the short-named ones).
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PODFS=${PODFS:-$TOP/build/podfs}
N=0 PASS=0 FAIL=0
T=$(mktemp -d /tmp/podfs-test.XXXXXX)
MNT=$T/mnt STATE=$T/state
PODFS_PID=
mkdir -p "$MNT" "$STATE"

skip_all() { echo "0 passed, 0 failed (skipped: $*)"; exit 77; }
# fail_all [MESSAGE]: a setup step failed: say why, count one failure, exit
fail_all() { [ $# -eq 0 ] || echo "$*"; echo "0 passed, 1 failed"; exit 1; }

need_root() {
  [ "$(id -u)" -eq 0 ] || skip_all "needs root"
  # fusectl lets a test cut a dead daemon's connection (fuse_abort)
  mountpoint -q /sys/fs/fuse/connections || mount -t fusectl none /sys/fs/fuse/connections 2>/dev/null
  for t in runc conmon catatonit umoci inotifywait; do
    command -v "$t" >/dev/null || skip_all "$t not installed (scripts/install-deps.sh)"
  done
}

# Build the test images once per run (shared between test files).
IMAGES=${PODFS_TEST_IMAGES:-/tmp/podfs-test-images}
images_build() {
  if [ ! -f "$IMAGES/.built" ] || [ "$TOP/scripts/build-images.sh" -nt "$IMAGES/.built" ]; then
    mkdir -p "$IMAGES"
    ( exec 9>"$IMAGES/.lock"; flock 9
      [ -f "$IMAGES/.built" ] && [ "$IMAGES/.built" -nt "$TOP/scripts/build-images.sh" ] ||
        { bash "$TOP/scripts/build-images.sh" "$IMAGES" && touch "$IMAGES/.built"; } )
  fi
}

images_import() {
  images_build
  "$PODFS" --state-dir "$STATE" image import "$IMAGES/busybox" docker.io/library/busybox:latest >/dev/null &&
  "$PODFS" --state-dir "$STATE" image import "$IMAGES/simple-container-app" \
    docker.io/arisu1000/simple-container-app:latest >/dev/null
}

podfs_start() {
  "$PODFS" -f --state-dir "$STATE" "$@" "$MNT" >>"$T/podfs.log" 2>&1 &
  PODFS_PID=$!
  wait_for 10 mountpoint -q "$MNT" || { echo "podfs did not mount"; cat "$T/podfs.log"; return 1; }
}

podfs_kill9() {
  [ -n "$PODFS_PID" ] && kill -9 "$PODFS_PID" 2>/dev/null
  # (checks run in subshells, which cannot wait for the mount's process:
  # the state dir's lock is free once it is gone)
  wait_for 10 flock -n "$STATE/lock" true
  PODFS_PID=
  umount -l "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null
  true
}

# fuse_abort: cut the mount's FUSE connection (a daemon that died hard
# would otherwise leave readers hanging); found through mountinfo, which
# never touches the mount itself.
fuse_abort() {
  local dev
  dev=$(awk -v m="$MNT" '$5 == m { split($3, d, ":"); print d[2] }' /proc/self/mountinfo | head -n1)
  [ -n "$dev" ] && [ -w "/sys/fs/fuse/connections/$dev/abort" ] &&
    echo 1 >"/sys/fs/fuse/connections/$dev/abort"
  true
}

podfs_stop() {
  if [ -n "$PODFS_PID" ] && ! kill -0 "$PODFS_PID" 2>/dev/null; then
    fuse_abort
    umount -l "$MNT" 2>/dev/null
  fi
  if timeout 5 mountpoint -q "$MNT"; then
    for d in "$MNT"/pods/*/; do [ -d "$d" ] && timeout 60 rmdir "$d" 2>/dev/null; done
    fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
  fi
  if [ -n "$PODFS_PID" ]; then
    wait_for 10 pid_gone "$PODFS_PID" || kill -9 "$PODFS_PID" 2>/dev/null
    wait "$PODFS_PID" 2>/dev/null
  fi
  PODFS_PID=
}

cleanup() {
  podfs_stop
  # containers a failed test left behind
  if [ -d "$STATE/containers" ]; then
    local root c
    root=$(run_root)
    for c in "$STATE"/containers/*/; do
      [ -d "$c" ] || continue
      [ -n "$root" ] && runc --root "$root" delete -f "$(basename "$c")" >/dev/null 2>&1
      umount -l "$c/rootfs" 2>/dev/null
    done
  fi
  rm -rf "$T" 2>/dev/null
}
# run_root: the runc root podfs uses for this state dir
run_root() {
  python3 - "$STATE" <<'PY'
import hashlib, os, sys
s = os.path.realpath(sys.argv[1])
print("/run/podfs/%s/runc" % hashlib.sha256(s.encode()).hexdigest()[:12])
PY
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
  local secs=$1; shift
  local end=$(( $(date +%s%N) + secs * 1000000000 ))
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ "$(date +%s%N)" -ge "$end" ] && return 1
    sleep 0.1
  done
}

# pid_gone PID: no process PID (any more)
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# phase_is POD PHASE
phase_is() { [ "$(cat "$MNT/pods/$1/phase" 2>/dev/null)" = "$2" ]; }
# file_has FILE TEXT
file_has() { grep -qF -- "$2" "$1" 2>/dev/null; }
# json_get FILE PYEXPR: evaluate a Python expression on the JSON document d
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# ---- pods ------------------------------------------------------------------
# pod NAME: make pods/NAME and apply the manifest on stdin as its spec.yaml
#   pod web <<'YAML' ... YAML
pod() { mkdir "$MNT/pods/$1" && cat >"$MNT/pods/$1/spec.yaml"; }
# sleeper_yaml [NAME [TEXT]]: a manifest on stdout: one busybox container
# "app" that echoes TEXT (if any), then loops until SIGTERM; grace period
# 2 s; metadata.name NAME unless NAME is empty
sleeper_yaml() {
  local meta="" say=""
  [ -z "${1:-}" ] || meta="metadata:
  name: $1
"
  [ -z "${2:-}" ] || say="echo $2; "
  cat <<YAML
apiVersion: v1
kind: Pod
${meta}spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; ${say}while true; do sleep 0.2; done"]
YAML
}
# no_pods: pods/ is empty
no_pods() { [ -z "$(ls "$MNT/pods")" ]; }

# ---- a pod's status (status.json) ------------------------------------------
# st POD PYEXPR: PYEXPR on the pod's status.json (as d), e.g. st web 'd["podIP"]'
st() { json_get "$MNT/pods/$1/status.json" "$2"; }
# c0 POD PYSUFFIX: a field of the first app container's status,
#   e.g. c0 web '["state"]["waiting"]["reason"]'
c0() { json_get "$MNT/pods/$1/status.json" "d[\"containerStatuses\"][0]$2"; }
# restarts POD, cid POD: the first app container's restartCount, containerID
restarts() { json_get "$MNT/pods/$1/status.json" 'd["containerStatuses"][0]["restartCount"]'; }
cid() { json_get "$MNT/pods/$1/status.json" 'd["containerStatuses"][0]["containerID"]'; }
# ip_of POD: the pod's IP, empty if it has none
ip_of() { json_get "$MNT/pods/$1/status.json" 'd.get("podIP","")'; }
# st_cmp POD PYEXPR OP VALUE: test(1) PYEXPR on status.json against VALUE;
# false while the file or the field is missing. For wait_for:
#   wait_for 30 st_cmp web 'd["containerStatuses"][0]["restartCount"]' -ge 1
st_cmp() {
  local v
  v=$(json_get "$MNT/pods/$1/status.json" "$2" 2>/dev/null) && [ "$v" "$3" "$4" ]
}

# ---- what runs and what is left --------------------------------------------
# run_dir: podfs's run dir for this state dir (runc root, pods/, volumes/, ...)
run_dir() { dirname "$(run_root)"; }
# runc_ids: the containers runc knows under podfs's root, one id a line
runc_ids() { runc --root "$(run_root)" list -q 2>/dev/null; }
# runc_running: how many of them are running
runc_running() {
  runc --root "$(run_root)" list -f json |
    python3 -c 'import json,sys; print(sum(1 for c in (json.load(sys.stdin) or []) if c["status"] == "running"))'
}
# veths: the names of the host's veth interfaces, sorted
veths() { ip -o link show type veth | awk -F': ' '{print $2}' | sed 's/@.*//' | sort; }

check() {
  local desc=$1; shift
  N=$((N + 1))
  if ( "$@" ) >"$T/out" 2>&1; then
    PASS=$((PASS + 1)); echo "ok $N - $desc"
  else
    FAIL=$((FAIL + 1)); echo "not ok $N - $desc"
    sed 's/^/#   /' "$T/out" | tail -n 30
    pods_report | sed 's/^/#   /'
    echo "#   --- podfs log (tail):"; tail -n 15 "$T/podfs.log" 2>/dev/null | sed 's/^/#   /'
  fi
}

# pods_report: each pod's phase and last events, for a failed check's
# report (a hung mount must not hang the report)
pods_report() {
  [ -n "${MNT:-}" ] && mountpoint -q "$MNT" 2>/dev/null || return 0
  timeout 10 bash -c '
    for d in "$1"/pods/*/; do
      [ -d "$d" ] || continue
      echo "--- pod $(basename "$d"): $(cat "$d/phase" 2>/dev/null)"
      tail -n 4 "$d/events" 2>/dev/null
    done' _ "$MNT" || echo "(pods/ did not answer in 10 s)"
}

# finish: stop podfs, make "no sanitizer report in the daemon's log" a
# check of its own, print the summary.
finish() {
  podfs_stop
  t_no_sanitizer_report() {
    ! grep -q "ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer" "$T/podfs.log"
  }
  check "no sanitizer report in the podfs log" t_no_sanitizer_report
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
}

# now_ms: wall clock in milliseconds
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
