#!/usr/bin/env bash
# t0060-restart: podfs killed with SIGKILL while 20 pods live (running,
# crash-looping, failing probes, one being deleted, one pulling its image,
# two whose containers exit while podfs is down), and while a `podfs image
# pull` runs in another process, then started again on the same state dir
# (issue 7): the same pods, phases, restart counts and logs (nothing lost,
# nothing doubled), probe state resumes, exits while down are recorded and
# acted on by policy, no container runs twice, the deletion finishes, the
# interrupted pull starts again and leaves one complete copy and no
# temporary files, the other process's pull goes on, and after deleting
# everything no process, cgroup or mount is left.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
images_import || { echo "image import failed"; echo "0 passed, 1 failed"; exit 1; }
LAYERS0=$(ls "$STATE/images/layers" | wc -l)

# tests/hostile-registry.py serves gated/pod and gated/cli a quarter at
# full speed, then a trickle until $GATE exists: pulls stay in flight, with
# progress, for as long as the test needs
GATE=$T/gate HPID= CLI_PID=
stop_extra() {
  [ -n "$CLI_PID" ] && kill "$CLI_PID" 2>/dev/null && wait "$CLI_PID" 2>/dev/null
  [ -n "$HPID" ] && kill "$HPID" 2>/dev/null && wait "$HPID" 2>/dev/null
  CLI_PID= HPID=
}
trap 'stop_extra; cleanup' EXIT
python3 "$TOP/tests/hostile-registry.py" "$T/hport" "$T/hlog" "$GATE" 2>>"$T/hostile.err" &
HPID=$!
wait_for 60 test -s "$T/hport" || { echo "hostile registry did not start"; echo "0 passed, 1 failed"; exit 1; }
HH=127.0.0.1:$(cat "$T/hport")
podfs_start --backoff-scale 0.1 || { echo "0 passed, 1 failed"; exit 1; }

# in the containers' argv, to find their processes (this test's only: the
# lead may run another copy of it meanwhile)
TAG=t60-${T##*.}
# the mount's helper child (fs/notify.c, its oldest child) holds no copy of
# /dev/fuse or of the state dir's lock: with them, a request of its own
# that podfs, killed, never answers would block it and the connection for
# good, and podfs could not start again ("in use by another podfs")
t_notifier_fds() {
  local c fds
  wait_for 10 pgrep -P "$PODFS_PID" -x podfs || { echo "no helper child of $PODFS_PID"; return 1; }
  c=$(pgrep -o -P "$PODFS_PID" -x podfs)
  fds=$(ls -l "/proc/$c/fd" 2>&1) && echo "$fds" &&
  ! grep -q "/dev/fuse\|$STATE/lock" <<<"$fds"
}
check "the mount's helper process holds neither /dev/fuse nor the state lock" t_notifier_fds
# counter NAME: prints "n 1", "n 2", ... (the tag in argv makes it findable)
counter() {
  pod "$1" <<YAML
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do i=\$((i+1)); echo n \$i; sleep 0.3; done", "$TAG-$1"]
YAML
}
# the "n K" lines of a log are exactly 1..K, once each, in order
counts_ok() {
  awk -v f="$1" '/^n [0-9]+$/ { k++; if ($2 != k) { print f ": line " NR " is " $0 ", expected n " k; exit 1 } }
                 END { if (k < 1) { print f ": no lines"; exit 1 } }' "$1"
}
lines() { grep -c '^n [0-9]*$' "$1"; }
# runc_lists ID: runc (this state dir's root) lists container ID. Not
# "runc list | grep -q": with pipefail, runc killed by SIGPIPE when grep
# stops at the first match reads as "not listed".
runc_lists() { local l; l=$(runc --root "$(run_root)" list -q 2>/dev/null); grep -qF -- "$1" <<<"$l"; }

RUNS="run-01 run-02 run-03 run-04 run-05 run-06 run-07 run-08 run-09 run-10"
t_create_20() {
  for p in $RUNS; do counter "$p" || return 1; done
  for p in crash-1 crash-2 crash-3; do
    pod "$p" <<YAML || return 1
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "echo start; sleep 0.5; exit 1", "$TAG-$p"]
YAML
  done
  pod live-fail <<'YAML' || return 1
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; echo up; while true; do sleep 0.2; done"]
    livenessProbe:
      exec:
        command: ["cat", "/nonexistent"]
      periodSeconds: 1
      failureThreshold: 3
YAML
  pod ready-fail <<'YAML' || return 1
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    readinessProbe:
      exec:
        command: ["cat", "/nonexistent"]
      periodSeconds: 1
YAML
  mkdir -p "$T/data-exit" "$T/data-never" "$T/data-del"
  pod exit-down <<YAML || return 1
apiVersion: v1
kind: Pod
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 2
  volumes:
  - name: d
    hostPath:
      path: $T/data-exit
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; echo waiting; while [ ! -f /d/exit ]; do sleep 0.1; done; rm /d/exit; echo exiting; exit 3"]
    volumeMounts:
    - name: d
      mountPath: /d
YAML
  pod never-down <<YAML || return 1
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  volumes:
  - name: d
    hostPath:
      path: $T/data-never
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while [ ! -f /d/exit ]; do sleep 0.1; done; exit 5"]
    volumeMounts:
    - name: d
      mountPath: /d
YAML
  pod with-init <<'YAML' || return 1
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  initContainers:
  - name: init
    image: busybox
    command: ["sh", "-c", "echo init done"]
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
YAML
  pod deleting <<YAML || return 1
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 20
  volumes:
  - name: d
    hostPath:
      path: $T/data-del
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    volumeMounts:
    - name: d
      mountPath: /d
    lifecycle:
      preStop:
        exec:
          command: ["sh", "-c", "touch /d/prestop; sleep 10"]
YAML
  pod pulling <<YAML || return 1
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: $HH/gated/pod
    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; echo pulled and running; while true; do sleep 0.2; done", "$TAG-pulling"]
YAML
  [ "$(ls "$MNT/pods" | wc -l)" = 20 ] || return 1
  for p in $RUNS ready-fail live-fail exit-down never-down with-init deleting; do
    wait_for 60 phase_is "$p" Running || { echo "$p not Running"; return 1; }
  done
  wait_for 30 grep -q "crash-3 .*CrashLoopBackOff" "$MNT/ps" &&
  wait_for 40 bash -c "[ \$(python3 -c 'import json;print(json.load(open(\"$MNT/pods/ready-fail/status.json\"))[\"containerStatuses\"][0][\"probes\"][\"readiness\"][\"consecutiveFailures\"])') -ge 8 ]" &&
  wait_for 30 bash -c "[ \$(python3 -c 'import json;print(json.load(open(\"$MNT/pods/live-fail/status.json\"))[\"containerStatuses\"][0][\"restartCount\"])') -ge 1 ]"
}
check "20 pods: 10 running, 3 in CrashLoopBackOff, failing liveness and readiness, init, pulling, ..." t_create_20

pull_msg() { json_get "$MNT/pods/pulling/status.json" 'd["containerStatuses"][0]["state"]["waiting"]["message"]'; }
# bytes done of the total, and a percentage above 0
pull_progress() { pull_msg | grep -Eq "^Pulling image \"$HH/gated/pod\": [0-9.]+ [kM]?B of [0-9.]+ MB \([1-9][0-9]*%\)\$"; }
pod_blob_gets() { grep -c "^GET /v2/gated/pod/blobs/" "$T/hlog"; }
# the pod's layer (its 8 MiB file "pod") and the CLI's two, complete, in the store
pod_layers() { ls "$STATE"/images/layers/*/pod 2>/dev/null | wc -l; }
cli_layers() { ls "$STATE"/images/layers/*/cli[12] 2>/dev/null | wc -l; }
t_pull_in_flight() {
  wait_for 30 pull_progress || { pull_msg; return 1; }
  [ "$(json_get "$MNT/pods/pulling/status.json" 'd["containerStatuses"][0]["state"]["waiting"]["reason"]')" = ContainerCreating ] &&
  phase_is pulling Pending && [ "$(pod_layers)" = 0 ] && [ ! -e "$GATE" ]
}
check "a pod's image pull in flight, its progress in the waiting message" t_pull_in_flight

# a big pull by the CLI, in a process of its own (started here, not in a
# check's subshell, so that this shell can wait for it)
"$PODFS" --state-dir "$STATE" image pull "$HH/gated/cli" >"$T/cli.out" 2>&1 &
CLI_PID=$!

# --- the snapshot before the kill -------------------------------------------
declare -A PHASE CID RC LINES
UIDS=
ALL="$RUNS crash-1 crash-2 crash-3 live-fail ready-fail exit-down never-down with-init deleting pulling"
snapshot() {
  # (by name: a readdir of pods/ would wait for the rmdir in progress,
  # which holds the directory's lock in the kernel)
  local p
  for p in $ALL; do
    PHASE[$p]=$(cat "$MNT/pods/$p/phase")
    RC[$p]=$(restarts "$p")
    CID[$p]=$(cid "$p" 2>/dev/null)
    UIDS="$UIDS $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uid"])' "$STATE/pods/$p/state.json")"
  done
}

t_kill_during_work() {
  # both pulls under way (first, so that the CLI's burst is over before the
  # deletion's clock runs): the CLI has asked for its config and two layers
  wait_for 30 bash -c "[ \$(grep -c '^GET /v2/gated/cli/blobs/' '$T/hlog') -ge 3 ]" &&
  kill -0 "$CLI_PID" && pull_progress || { echo "pulls not in flight"; cat "$T/cli.out"; return 1; }
  snapshot
  # a deletion under way: rmdir blocks in the preStop hook (and, holding
  # the kernel's locks on pods/ and pods/deleting, so does a readdir of
  # pods/ or a lookup inside pods/deleting/ meanwhile)
  ( rmdir "$MNT/pods/deleting" 2>/dev/null & )
  wait_for 20 test -f "$T/data-del/prestop" || { echo "preStop did not start"; return 1; }
  [ -f "$STATE/pods/deleting/deleting" ] && [ -n "${CID[deleting]}" ] &&
  runc_lists "${CID[deleting]#runc://}" || {
    echo "deletion over already: container '${CID[deleting]}', $(date +%T.%N), preStop began $(stat -c %y "$T/data-del/prestop")"
    ls -l "$STATE/pods/deleting/" 2>&1; runc --root "$(run_root)" list 2>&1 | grep -v '^ID' | wc -l
    return 1
  }
  READY_FAILS=$(c0 ready-fail '["probes"]["readiness"]["consecutiveFailures"]')
  echo "$READY_FAILS" >"$T/ready-fails"
  for p in $RUNS; do cp "$MNT/pods/$p/logs" "$T/before-$p.log"; done
  declare -p PHASE CID RC UIDS >"$T/snapshot"
  pod_blob_gets >"$T/pod-gets"
  podfs_kill9
  # what state.json kept of the failing readiness probe (failures that do
  # not change a result are saved within 5 s, not every period)
  python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print(max([p.get("failures",0) for c in d.get("containers",[]) for p in c.get("probes",[])] or [0]))' \
    "$STATE/pods/ready-fail/state.json" >"$T/ready-saved" 2>/dev/null
  ! mountpoint -q "$MNT" &&
  { wait_for 30 flock -n "$STATE/lock" true || { echo "the state lock is still held"; return 1; }; } &&
  # nothing of the interrupted pull looks complete
  [ "$(pod_layers)" = 0 ] && ! grep -q gated/pod "$STATE/images/refs.json" 2>/dev/null &&
  # while podfs is down: two containers exit, the others keep running
  touch "$T/data-exit/exit" "$T/data-never/exit" && sleep 2 &&
  [ ! -e "$T/data-exit/exit" ] && pgrep -f "$TAG-run-01" >/dev/null
}
check "kill -9 podfs during a deletion, an image pull and a CLI pull; containers exit while it is down" t_kill_during_work
[ -f "$T/snapshot" ] && . "$T/snapshot"
# (if that check failed before its kill: never two podfs on one state dir)
podfs_kill9
if ! flock -n "$STATE/lock" true; then
  echo "# the state dir's lock is still held after the kill:"
  for f in /proc/[0-9]*/fd/*; do
    [ "$(readlink "$f" 2>/dev/null)" = "$STATE/lock" ] || continue
    p=${f#/proc/}; p=${p%%/*}
    ps -o pid,ppid,stat,wchan:30,args -p "$p" | sed 's/^/#   /'
    for t in /proc/$p/task/*; do
      echo "#   task ${t##*/}: $(awk '{print $3}' "$t/stat") $(cat "$t/wchan" 2>/dev/null)"
      sed 's/^/#     /' "$t/stack" 2>/dev/null
    done
  done
  # (a process being killed is gone only once every thread has left the
  # kernel: on a loaded machine an fsync can keep it a while)
  wait_for 60 flock -n "$STATE/lock" true
fi
DOWN_AT=$(date +%s)

# a container podfs started but never recorded (as if killed between runc
# create and writing state.json): a bundle in STATE/containers, running
# under podfs's runc root, that no pod names
ORPHAN=0123456789abcdef0123456789abcdef
make_orphan() {
  local b=$STATE/containers/$ORPHAN r=$T/orphan-rootfs
  mkdir -p "$b" "$r/bin" "$r/proc" "$r/dev" "$r/sys" &&
  cp "$(command -v busybox)" "$r/bin/busybox" && ln -sf busybox "$r/bin/sh" &&
  ( cd "$b" && runc spec ) &&
  python3 - "$b/config.json" "$r" "$TAG" <<'PY' &&
import json, sys
p, r, tag = sys.argv[1], sys.argv[2], sys.argv[3]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/busybox", "sh", "-c", "while :; do /bin/busybox sleep 1; done", tag + "-orphan"]
c["root"] = {"path": r, "readonly": True}
json.dump(c, open(p, "w"))
PY
  runc --root "$(run_root)" run -d --bundle "$b" "$ORPHAN" </dev/null >"$T/orphan.out" 2>&1 &&
  runc_lists "$ORPHAN"
}
make_orphan || { echo "# could not make the orphan container:"; sed 's/^/#   /' "$T/orphan.out" 2>/dev/null; }

# (started here, not in a check's subshell, so PODFS_PID stays the mount's)
podfs_start --backoff-scale 0.1
# at once, before any new probe could count much
c0 ready-fail '["probes"]["readiness"]["consecutiveFailures"]' >"$T/ready-after" 2>/dev/null
t_restart() {
  mountpoint -q "$MNT" || return 1
  for p in $RUNS crash-1 crash-2 crash-3 live-fail ready-fail exit-down never-down with-init; do
    [ -d "$MNT/pods/$p" ] || { echo "$p missing"; return 1; }
  done
  [ "$(ls "$MNT/pods" | grep -vc '^deleting$')" = 19 ]
}
check "started again on the same state dir: every pod is there" t_restart
check "started again: its helper process holds neither /dev/fuse nor the state lock" t_notifier_fds

t_pull_again() {
  # a new pull (the registry is asked again), with progress again, while
  # the CLI's pull in the other process goes on
  wait_for 30 bash -c "[ \$(grep -c '^GET /v2/gated/pod/blobs/' '$T/hlog') -gt $(cat "$T/pod-gets") ]" ||
    { echo "no new request for gated/pod"; return 1; }
  wait_for 30 pull_progress || { pull_msg; return 1; }
  phase_is pulling Pending || { echo "phase $(cat "$MNT/pods/pulling/phase")"; return 1; }
  kill -0 "$CLI_PID" || { echo "the CLI pull is over already"; return 1; }
  [ "$(pod_layers)" = 0 ] || { echo "the layer is there already"; return 1; }
  # (from here on both can finish)
  touch "$GATE"
  wait_for 60 phase_is pulling Running || { echo "not Running"; cat "$MNT/pods/pulling/status"; return 1; }
  wait_for 10 file_has "$MNT/pods/pulling/logs" "pulled and running" || { echo "no output"; return 1; }
  file_has "$MNT/pods/pulling/events" "Successfully pulled image \"$HH/gated/pod\"" ||
    { cat "$MNT/pods/pulling/events"; return 1; }
  [ "$(restarts pulling)" = 0 ] || { echo "restarted"; cat "$MNT/pods/pulling/status"; return 1; }
}
check "the pull interrupted by the kill starts again, finishes, and the pod runs" t_pull_again

# the CLI's exit status (it had to go on by itself; the gate is open now
# even if a check above failed before opening it)
touch "$GATE"
CLI_RC=0
if [ -n "$CLI_PID" ]; then
  wait_for 60 bash -c "! kill -0 $CLI_PID 2>/dev/null" || kill "$CLI_PID"
  wait "$CLI_PID"; CLI_RC=$?; CLI_PID=
fi
t_cli_pull() {
  cat "$T/cli.out"
  [ "$CLI_RC" = 0 ] && grep -q "gated/cli" "$STATE/images/refs.json" && [ "$(cli_layers)" = 2 ]
}
check "a CLI pull in another process goes on through the kill and finishes" t_cli_pull

t_one_copy() {
  # each image once, each layer once and complete (its whole file there),
  # no temporary dir of the interrupted pull left
  [ -z "$(ls -A "$STATE/images/tmp")" ] || { echo "left in images/tmp:"; ls -la "$STATE/images/tmp"; return 1; }
  [ "$(pod_layers)" = 1 ] && [ "$(stat -c %s "$STATE"/images/layers/*/pod)" = 8388608 ] &&
  [ "$(cat "$STATE"/images/layers/*/cli[12] | wc -c)" = $((2 * 8388608)) ] &&
  [ "$(ls "$STATE/images/layers" | wc -l)" = $((LAYERS0 + 3)) ] || { ls -la "$STATE/images/layers"; return 1; }
  "$PODFS" --state-dir "$STATE" image ls >"$T/ls" &&
  [ "$(grep -c "gated/pod" "$T/ls")" = 1 ] && [ "$(grep -c "gated/cli" "$T/ls")" = 1 ] || { cat "$T/ls"; return 1; }
  # a later pull of either works (and changes nothing)
  "$PODFS" --state-dir "$STATE" image pull "$HH/gated/cli" && "$PODFS" --state-dir "$STATE" image pull "$HH/gated/pod" &&
  [ "$(ls "$STATE/images/layers" | wc -l)" = $((LAYERS0 + 3)) ] && [ -z "$(ls -A "$STATE/images/tmp")" ]
}
check "the image store holds one complete copy of each, no temporary files; later pulls work" t_one_copy

t_orphan_removed() {
  ! runc_lists "$ORPHAN" && [ ! -e "$STATE/containers/$ORPHAN" ] &&
  grep -q "podfs: removing container $ORPHAN, which no pod knows of" "$T/podfs.log" &&
  [ -z "$(pgrep -f "$TAG-orphan")" ]
}
check "a container no pod knows of (started, never recorded) is removed at start" t_orphan_removed

t_same_state() {
  for p in $RUNS with-init ready-fail; do
    [ "$(cat "$MNT/pods/$p/phase")" = "${PHASE[$p]}" ] || { echo "$p phase"; return 1; }
    [ "$(restarts "$p")" = "${RC[$p]}" ] || { echo "$p restarts ${RC[$p]} -> $(restarts "$p")"; return 1; }
    [ "$(cid "$p")" = "${CID[$p]}" ] || { echo "$p container changed"; return 1; }
  done
  for p in crash-1 crash-2 crash-3 live-fail; do
    [ "$(restarts "$p")" -ge "${RC[$p]}" ] || { echo "$p restarts went back"; return 1; }
    phase_is "$p" Running || return 1
  done
  [ "$(json_get "$MNT/pods/with-init/status.json" 'd["initContainerStatuses"][0]["state"]["terminated"]["reason"]')" = Completed ]
}
check "same phases, restart counts and containers; init containers stay Completed" t_same_state

t_logs() {
  for p in $RUNS; do
    counts_ok "$MNT/pods/$p/logs" || return 1
    # what was read before is a prefix of what is read now
    cmp -n "$(stat -c %s "$T/before-$p.log")" "$T/before-$p.log" "$MNT/pods/$p/logs" || return 1
    local b; b=$(lines "$T/before-$p.log")
    wait_for 10 bash -c "[ \$(grep -c '^n [0-9]*\$' '$MNT/pods/$p/logs') -gt $((b + 5)) ]" ||
      { echo "$p log does not grow"; return 1; }
    counts_ok "$MNT/pods/$p/logs" || return 1
  done
  # crash-loop logs: each instance's log holds its one "start", once
  local f
  for p in crash-1 crash-2 crash-3; do
    for f in "$STATE/pods/$p/logs/app/"*.log; do
      [ "$(grep -c ' F start$' "$f")" -le 1 ] || { echo "$f: start twice"; return 1; }
    done
    [ "$(cat "$STATE/pods/$p/logs/app/"*.log | grep -c ' F start$')" -ge "$(restarts "$p")" ] ||
      { echo "$p: fewer logs than restarts"; return 1; }
  done
}
check "logs: nothing lost, nothing doubled (n 1..K exactly once), output while down included" t_logs

t_exits_while_down() {
  wait_for 20 bash -c "[ \$(python3 -c 'import json;print(json.load(open(\"$MNT/pods/exit-down/status.json\"))[\"containerStatuses\"][0][\"restartCount\"])') = $((RC[exit-down] + 1)) ]" || { echo "exit-down not restarted"; return 1; }
  [ "$(c0 exit-down '["lastState"]["terminated"]["exitCode"]')" = 3 ] &&
  [ "$(c0 exit-down '["lastState"]["terminated"]["reason"]')" = Error ] &&
  wait_for 20 phase_is exit-down Running &&
  file_has "$MNT/pods/exit-down/containers/app/previous.log" exiting &&
  # when it exited, not when podfs noticed
  local fin; fin=$(c0 exit-down '["lastState"]["terminated"]["finishedAt"]')
  [ "$(date -d "$fin" +%s)" -le "$((DOWN_AT + 1))" ] || { echo "finishedAt $fin is after the restart"; return 1; }
  wait_for 20 phase_is never-down Failed &&
  [ "$(c0 never-down '["state"]["terminated"]["exitCode"]')" = 5 ] && [ "$(restarts never-down)" = 0 ]
}
check "containers that exited while podfs was down: exit codes recorded, restarted by policy" t_exits_while_down

t_probes_resume() {
  local before saved; before=$(cat "$T/ready-fails"); saved=$(cat "$T/ready-saved")
  [ "$(c0 ready-fail '["ready"]')" = False ] &&
  # the count went on from what was saved (without saved state it would
  # start again from 0); the save lags the live count by at most 5 s
  [ "$saved" -ge 1 ] && [ "$saved" -ge $((before - 6)) ] &&
  [ "$(cat "$T/ready-after")" -ge "$saved" ] || { echo "failures $before (saved $saved) -> $(cat "$T/ready-after")"; return 1; }
  [ "$(c0 ready-fail '["probes"]["readiness"]["result"]')" = Failure ] &&
  wait_for 10 bash -c "[ \$(python3 -c 'import json;print(json.load(open(\"$MNT/pods/ready-fail/status.json\"))[\"containerStatuses\"][0][\"probes\"][\"readiness\"][\"consecutiveFailures\"])') -gt $((before + 1)) ]" &&
  local rc=${RC[live-fail]}
  wait_for 40 bash -c "[ \$(python3 -c 'import json;print(json.load(open(\"$MNT/pods/live-fail/status.json\"))[\"containerStatuses\"][0][\"restartCount\"])') -gt $rc ]"
}
check "probe state resumes: readiness failures count on, liveness failures restart" t_probes_resume

t_deletion_finishes() {
  wait_for 40 bash -c "[ ! -e '$MNT/pods/deleting' ]" &&
  [ ! -d "$STATE/pods/deleting" ] && [ -n "${CID[deleting]}" ] &&
  ! runc_lists "${CID[deleting]#runc://}"
}
check "the pod being deleted when podfs died finishes deleting" t_deletion_finishes

t_no_double_start() {
  for p in $RUNS; do
    [ "$(pgrep -fc "$TAG-$p\$")" = 1 ] || { echo "$p runs $(pgrep -fc "$TAG-$p\$") times"; return 1; }
  done
  # every running runc container is a pod's infra or a container podfs shows running
  local root; root=$(run_root)
  ok_count() {
    local want have
    want=$(python3 - "$MNT" <<'PY'
import json, os, sys
m = sys.argv[1]; n = 0
for p in os.listdir(m + "/pods"):
    d = json.load(open(f"{m}/pods/{p}/status.json"))
    if d.get("phase") in ("Pending", "Running"):
        n += 1  # infra
    for c in d.get("initContainerStatuses", []) + d.get("containerStatuses", []):
        if "running" in c.get("state", {}):
            n += 1
print(n)
PY
)
    have=$(runc --root "$root" list -f json | python3 -c 'import json,sys; print(sum(1 for c in (json.load(sys.stdin) or []) if c["status"] == "running"))')
    echo "want $want have $have"
    [ "$want" = "$have" ]
  }
  wait_for 20 ok_count || { ok_count; return 1; }
}
check "no container started twice (one process per counter, runc list = what podfs shows)" t_no_double_start

t_delete_all_clean() {
  for p in "$MNT"/pods/*/; do timeout 60 rmdir "$p" || { echo "rmdir $p failed"; return 1; }; done
  [ -z "$(ls "$MNT/pods")" ] && [ -z "$(ls "$STATE/containers")" ] ||
    { echo "left: pods: $(ls "$MNT/pods"); containers: $(ls "$STATE/containers")"; return 1; }
  local root run; root=$(run_root); run=$(dirname "$root")
  [ -z "$(runc --root "$root" list -q 2>/dev/null)" ] || { echo "runc containers left"; return 1; }
  [ -z "$(pgrep -f "conmon.*$STATE")" ] || { echo "conmon left"; return 1; }
  [ -z "$(pgrep -f "$TAG-")" ] || { echo "container processes left"; return 1; }
  [ -z "$(ls "$run/pods")" ] || { echo "run dirs left: $(ls "$run/pods")"; return 1; }
  ! grep -q "$run\|$STATE" /proc/mounts || { grep "$run\|$STATE" /proc/mounts; return 1; }
  local u
  for u in $UIDS; do
    if [ -n "$(ls -d /sys/fs/cgroup/*/podfs/"$u" 2>/dev/null)" ]; then
      echo "cgroups left for pod $u: $(ls -d /sys/fs/cgroup/*/podfs/"$u")"; return 1
    fi
  done
  [ -n "$UIDS" ] || { echo "no pod uids recorded"; return 1; }
}
check "after deleting every pod: no conmon, runc, container process, cgroup, mount or pin left" t_delete_all_clean

finish
