#!/usr/bin/env bash
# t0022-sandbox: the infra (pause) process dies, as the kubelet handles a
# changed sandbox (kubelet-semantics.md sections 4 and 13): SandboxChanged,
# every container killed, a new sandbox, the init containers run again from
# the first, then the app containers restart; restart counts as the kubelet
# keeps them. With restartPolicy Never no new sandbox is made and the pod
# fails.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
images_import || { echo "image import failed"; echo "0 passed, 1 failed"; exit 1; }
podfs_start --backoff-scale 0.1 || { echo "0 passed, 1 failed"; exit 1; }

pod() { mkdir "$MNT/pods/$1" && cat >"$MNT/pods/$1/spec.yaml"; }
st() { json_get "$MNT/pods/$1/status.json" "$2"; }
cond() { st "$1" "[c for c in d[\"conditions\"] if c[\"type\"]==\"$2\"][0]$3"; }
# infra_pid POD: the pid of the pod's catatonit, from podfs's state
infra_pid() { json_get "$STATE/pods/$1/state.json" 'd["infraPid"]'; }
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

t_recreate() {
  mkdir -p "$T/re"
  pod re <<YAML
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: d
    hostPath:
      path: $T/re
  initContainers:
  - name: init1
    image: busybox
    command: ["sh", "-c", "echo run >>/d/init1"]
    volumeMounts: [{name: d, mountPath: /d}]
  - name: init2
    image: busybox
    command: ["sh", "-c", "echo run >>/d/init2"]
    volumeMounts: [{name: d, mountPath: /d}]
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "echo run >>/d/app; exec sleep 3600"]
    volumeMounts: [{name: d, mountPath: /d}]
YAML
  wait_for 30 phase_is re Running || { echo "never Running"; return 1; }
  wait_for 10 bash -c "[ \"\$(cat '$T/re/app' 2>/dev/null | wc -l)\" = 1 ]" || return 1
  [ "$(cond re PodReadyToStartContainers '["status"]')" = True ] || return 1
  local old
  old=$(infra_pid re)
  [ -n "$old" ] && [ "$old" -gt 0 ] && grep -q catatonit "/proc/$old/cmdline" || { echo "no infra pid ($old)"; return 1; }
  kill -9 "$old"
  wait_for 15 file_has "$MNT/pods/re/events" "Warning SandboxChanged Pod sandbox changed, it will be killed and re-created." ||
    { echo "no SandboxChanged event"; cat "$MNT/pods/re/events"; return 1; }
  # the app is stopped as the kubelet kills a pod, then everything runs again
  wait_for 20 file_has "$MNT/pods/re/events" "Normal  Killing app: Stopping container app" ||
    { echo "no Killing event"; cat "$MNT/pods/re/events"; return 1; }
  wait_for 30 bash -c "[ \"\$(cat '$T/re/app' 2>/dev/null | wc -l)\" = 2 ]" ||
    { echo "app did not run again"; cat "$MNT/pods/re/events"; return 1; }
  wait_for 10 bash -c "grep -q 're  *1/1  *Running  *1 ' '$MNT/ps'" || { cat "$MNT/ps"; return 1; }
  [ "$(lines "$T/re/init1")" = 2 ] && [ "$(lines "$T/re/init2")" = 2 ] ||
    { echo "init containers ran $(lines "$T/re/init1") and $(lines "$T/re/init2") times"; return 1; }
  local new
  new=$(infra_pid re)
  [ "$new" != "$old" ] && grep -q catatonit "/proc/$new/cmdline" || { echo "no new infra ($new)"; return 1; }
  # restart counts: each init container and the app ran twice
  [ "$(st re 'd["initContainerStatuses"][0]["restartCount"]')" = 1 ] &&
  [ "$(st re 'd["initContainerStatuses"][1]["restartCount"]')" = 1 ] &&
  [ "$(st re 'd["containerStatuses"][0]["restartCount"]')" = 1 ] || { cat "$MNT/pods/re/status"; return 1; }
  # the init containers completed again; their previous run is lastState
  [ "$(st re 'd["initContainerStatuses"][0]["state"]["terminated"]["reason"]')" = Completed ] &&
  [ "$(st re 'd["initContainerStatuses"][0]["lastState"]["terminated"]["reason"]')" = Completed ] || return 1
  # the app was killed (it ignores SIGTERM as PID 1: SIGKILL after the grace)
  [ "$(st re 'd["containerStatuses"][0]["lastState"]["terminated"]["exitCode"]')" = 137 ] || return 1
  # init containers ran before the app, in order, after the sandbox came back
  local order
  order=$(grep -E "Started (init1|init2|app):" "$MNT/pods/re/events" | awk '{print $4}' | tr -d : | tr '\n' ' ')
  [ "$order" = "init1 init2 app init1 init2 app " ] || { echo "start order: $order"; return 1; }
  [ "$(cond re PodReadyToStartContainers '["status"]')" = True ] &&
  [ "$(cond re Ready '["status"]')" = True ] && phase_is re Running
}
check "infra killed: SandboxChanged, app killed, new sandbox, init containers re-run in order, app restarted, counts 1" t_recreate

t_recreate_never() {
  mkdir -p "$T/nv"
  pod nv <<YAML
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  volumes:
  - name: d
    hostPath:
      path: $T/nv
  initContainers:
  - name: init
    image: busybox
    command: ["sh", "-c", "echo run >>/d/init"]
    volumeMounts: [{name: d, mountPath: /d}]
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
YAML
  wait_for 30 phase_is nv Running || return 1
  local old
  old=$(infra_pid nv)
  [ -n "$old" ] && [ "$old" -gt 0 ] || return 1
  kill -9 "$old"
  wait_for 20 phase_is nv Failed || { echo "phase $(cat "$MNT/pods/nv/phase")"; return 1; }
  sleep 1
  # no new sandbox, nothing ran again
  [ "$(lines "$T/nv/init")" = 1 ] || return 1
  [ "$(cond nv PodReadyToStartContainers '["status"]')" = False ] || return 1
  [ "$(st nv 'd["containerStatuses"][0]["restartCount"]')" = 0 ] &&
  [ "$(st nv 'd["containerStatuses"][0]["state"]["terminated"]["exitCode"]')" = 137 ] || return 1
  file_has "$MNT/pods/nv/events" "SandboxChanged" &&
  grep -q "nv  *0/1  *Error  *0 " "$MNT/ps" || { cat "$MNT/ps"; return 1; }
  # nothing of the sandbox is left running
  ! [ -d "/proc/$old" ] || ! grep -q catatonit "/proc/$old/cmdline"
}
check "infra killed with restartPolicy Never: no new sandbox, app killed (137), pod Failed" t_recreate_never

finish
