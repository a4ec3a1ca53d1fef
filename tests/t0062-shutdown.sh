#!/usr/bin/env bash
# t0062-shutdown: how podfs goes away (issue 7). Unmounting with
# fusermount3 -u or umount -l leaves the pods running and a new podfs finds
# them; a second podfs on the same state dir is refused, before it mounts,
# with a message naming the first; --stop-pods-on-exit stops every pod
# gracefully on SIGTERM or unmount, keeps them, and the next podfs starts
# them again.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
images_import || fail_all "image import failed"
podfs_start --backoff-scale 0.1 || fail_all

mkdir -p "$T/data"
podfs_gone() { wait_for "${1:-10}" pid_gone "$PODFS_PID"; }

t_setup() {
  pod web <<YAML &&
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 10
  volumes:
  - name: d
    hostPath:
      path: $T/data
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "trap 'echo got TERM >>/d/web.term; exit 0' TERM; echo up; while true; do sleep 0.2; done"]
    volumeMounts:
    - name: d
      mountPath: /d
    lifecycle:
      preStop:
        exec:
          command: ["sh", "-c", "echo prestop >>/d/web.prestop"]
YAML
  pod job <<'YAML' &&
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "echo done"]
YAML
  wait_for 30 phase_is web Running && wait_for 30 phase_is job Succeeded
}
check "a running pod and a finished one" t_setup

W0=$(cid web 2>/dev/null)
# (podfs is started and stopped here, between the checks: a check runs in
# a subshell, and PODFS_PID must stay the mount's process)
restart() { podfs_start --backoff-scale 0.1 "$@" || { echo "podfs did not start"; cat "$T/podfs.log"; }; }

fusermount3 -u "$MNT"; podfs_gone; EXITED=$?
t_fusermount_down() {
  [ "$EXITED" = 0 ] && ! mountpoint -q "$MNT" && [ "$(runc_running)" = 2 ] && [ ! -e "$T/data/web.term" ] &&
  [ -n "$(pgrep -f "conmon.*$STATE")" ]
}
check "fusermount3 -u: podfs exits, the pods keep running" t_fusermount_down
restart
t_found() {
  wait_for 10 phase_is web Running && [ "$(cid web)" = "$W0" ] && [ "$(restarts web)" = 0 ] &&
  phase_is job Succeeded && [ "$(runc_running)" = 2 ]
}
check "a new podfs finds them (same container, no restart)" t_found

umount -l "$MNT"; podfs_gone; EXITED=$?
t_umount_lazy() {
  [ "$EXITED" = 0 ] && [ "$(runc_running)" = 2 ] && [ ! -e "$T/data/web.term" ]
}
check "umount -l: podfs exits, the pods keep running" t_umount_lazy
restart
check "... and a new podfs finds them" t_found

t_second_refused() {
  mkdir -p "$T/mnt2"
  local pid1; pid1=$(cat "$STATE/lock")
  [ "$pid1" = "$PODFS_PID" ] || { echo "lock names $pid1, podfs is $PODFS_PID"; return 1; }
  # in the foreground and as a daemon: refused before mounting, said on stderr
  if timeout 10 "$PODFS" -f --state-dir "$STATE" "$T/mnt2" 2>"$T/err1"; then echo "second podfs ran"; return 1; fi
  if timeout 10 "$PODFS" --state-dir "$STATE" "$T/mnt2" 2>"$T/err2"; then echo "second daemon ran"; return 1; fi
  cat "$T/err1"
  grep -q "podfs: state dir $STATE is in use by another podfs (pid $PODFS_PID)" "$T/err1" &&
  grep -q "podfs: state dir $STATE is in use by another podfs (pid $PODFS_PID)" "$T/err2" &&
  ! mountpoint -q "$T/mnt2" && mountpoint -q "$MNT" && phase_is web Running &&
  # also through another spelling of the same directory
  if ( cd "$T" && timeout 10 "$PODFS" -f --state-dir ./state/../state "$T/mnt2" 2>/dev/null ); then return 1; fi
}
check "a second podfs on the same state dir is refused with a message naming the first" t_second_refused

# a replacement under way when podfs dies: the old containers must not be
# adopted as the new spec's
repl() { # repl VERSION
  cat <<YAML
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 10
  volumes:
  - name: d
    hostPath:
      path: $T/data
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; echo version \$0; while true; do sleep 0.2; done", "repl-$1"]
    volumeMounts:
    - name: d
      mountPath: /d
    lifecycle:
      preStop:
        exec:
          command: ["sh", "-c", "touch /d/repl.prestop; sleep 5"]
YAML
}
mkdir "$MNT/pods/repl" && repl one >"$MNT/pods/repl/spec.yaml"
wait_for 30 phase_is repl Running
R0=$(cid repl 2>/dev/null)
repl two >"$MNT/pods/repl/spec.yaml"
wait_for 20 test -f "$T/data/repl.prestop"
podfs_kill9
restart
t_replace_across_kill() {
  [ -n "$R0" ] && wait_for 30 file_has "$MNT/pods/repl/logs" "version repl-two" &&
  [ "$(cid repl)" != "$R0" ] && wait_for 20 phase_is repl Running &&
  [ -z "$(pgrep -f "repl-one\$")" ] && [ "$(pgrep -fc "repl-two\$")" = 1 ] &&
  grep -q "Normal  Replaced manifest changed; pod recreated" "$MNT/pods/repl/events" ||
    { echo "R0=$R0 now=$(cid repl)"; cat "$MNT/pods/repl/logs" "$MNT/pods/repl/events"; pgrep -fa "repl-"; return 1; }
}
check "podfs killed while replacing a pod: the next one finishes the replacement" t_replace_across_kill
rmdir "$MNT/pods/repl"

podfs_kill9
restart --stop-pods-on-exit
wait_for 10 phase_is web Running
kill -TERM "$PODFS_PID"; podfs_gone 30; EXITED=$?
t_stop_on_sigterm() {
  [ "$EXITED" = 0 ] || { echo "podfs did not exit"; return 1; }
  ! mountpoint -q "$MNT" &&
  [ "$(runc_running)" = 0 ] && [ -z "$(pgrep -f "conmon.*$STATE")" ] &&
  file_has "$T/data/web.prestop" prestop && file_has "$T/data/web.term" "got TERM" &&
  [ -f "$STATE/pods/web/spec.yaml" ] && [ -f "$STATE/pods/job/spec.yaml" ] &&
  [ -z "$(ls "$(run_dir)/pods")" ] && ! grep -q "$(run_dir)" /proc/mounts
}
check "--stop-pods-on-exit and SIGTERM: preStop, TERM, every container and sandbox gone, specs kept" t_stop_on_sigterm

restart
t_start_after_stop() {
  wait_for 30 bash -c "grep -q 'restartCount: 1' '$MNT/pods/web/status'" && wait_for 30 phase_is web Running &&
  [ "$(cid web)" != "$W0" ] && [ "$(restarts web)" = 1 ] &&
  [ "$(c0 web '["lastState"]["terminated"]["exitCode"]')" = 0 ] &&
  grep -q "Normal  Shutdown podfs is shutting down (--stop-pods-on-exit)" "$MNT/pods/web/events" &&
  phase_is job Succeeded && [ "$(restarts job)" = 0 ] && [ "$(runc_running)" = 2 ]
}
check "the next podfs starts them again by restart policy (web restarted, finished job left alone)" t_start_after_stop

podfs_kill9
restart --stop-pods-on-exit
wait_for 10 phase_is web Running
fusermount3 -u "$MNT"; podfs_gone 30; EXITED=$?
t_stop_on_unmount() { [ "$EXITED" = 0 ] && [ "$(runc_running)" = 0 ] && [ -z "$(pgrep -f "conmon.*$STATE")" ]; }
check "--stop-pods-on-exit and fusermount3 -u: the same" t_stop_on_unmount
restart
t_again() { wait_for 30 bash -c "[ \"\$(cat '$MNT/pods/web/phase')\" = Running ] && grep -q 'restartCount: 2' '$MNT/pods/web/status'"; }
check "... and they start again" t_again

finish
