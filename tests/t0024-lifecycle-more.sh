#!/usr/bin/env bash
# t0024-lifecycle-more: what issue 4 asks and t0020 did not check yet
# (kubelet-semantics.md sections 2, 5, 6, 7, 12): probe results announced to
# watchers, errored probes are not failures, probe-level grace periods,
# exit code 143, FailedPreStopHook, Completed pods' conditions, ps's
# Init:CrashLoopBackOff and "N (Xs ago)".
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
images_import || { echo "image import failed"; echo "0 passed, 1 failed"; exit 1; }
podfs_start --backoff-scale 0.1 || { echo "0 passed, 1 failed"; exit 1; }

pod() { mkdir "$MNT/pods/$1" && cat >"$MNT/pods/$1/spec.yaml"; }
st() { json_get "$MNT/pods/$1/status.json" "$2"; }
c0() { st "$1" "d[\"containerStatuses\"][0]$2"; }
cond() { st "$1" "[c for c in d[\"conditions\"] if c[\"type\"]==\"$2\"][0]$3"; }
restarts_ge() { [ "$(c0 "$1" '["restartCount"]' 2>/dev/null)" -ge "$2" ] 2>/dev/null; }

t_probe_announced() {
  pod watched <<'YAML'
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: web
    image: docker.io/arisu1000/simple-container-app:latest
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
YAML
  wait_for 30 bash -c "[ \"\$(python3 -c 'import json;print(json.load(open(\"$MNT/pods/watched/status.json\"))[\"containerStatuses\"][0][\"ready\"])')\" = True ]" || return 1
  local a b f i
  succ() { grep -o 'consecutiveSuccesses": *[0-9]*\|consecutiveSuccesses: [0-9]*' "$MNT/pods/watched/$1" | grep -o '[0-9]*$'; }
  # every probe moves consecutiveSuccesses: each status file is announced
  # (an event may still be on its way for a change already read: a few
  # events, each followed by a read, must show the count moving)
  for f in containers/web/status status status.json; do
    a=$(succ "$f")
    for i in 1 2 3; do
      timeout 5 inotifywait -q -e close_write "$MNT/pods/watched/$f" >"$T/inw" 2>&1 || { echo "no event on $f"; return 1; }
      grep -q CLOSE_WRITE "$T/inw" || return 1
      b=$(succ "$f")
      [ "$b" -gt "$a" ] && break
    done
    [ "$b" -gt "$a" ] || { echo "$f: $a then $b"; return 1; }
  done
  # and IN_MODIFY too, within a period or two
  timeout 5 inotifywait -q -e modify "$MNT/pods/watched/containers/web/status" >/dev/null 2>&1
}
check "probe results announced: IN_CLOSE_WRITE/IN_MODIFY on containers/C/status, status, status.json each period" t_probe_announced

t_probe_error() {
  pod errored <<'YAML'
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: web
    image: docker.io/arisu1000/simple-container-app:latest
    livenessProbe: {httpGet: {port: nosuch}, periodSeconds: 1, failureThreshold: 1}
YAML
  wait_for 20 file_has "$MNT/pods/errored/events" \
    'Warning Unhealthy web: Liveness probe errored and resulted in unknown state:' ||
    { cat "$MNT/pods/errored/events"; return 1; }
  sleep 3
  # an errored probe is discarded: never a failure, never a kill
  [ "$(c0 errored '["restartCount"]')" = 0 ] &&
  [ "$(c0 errored '["probes"]["liveness"]["lastProbe"]')" = Error ] &&
  [ "$(c0 errored '["probes"]["liveness"]["consecutiveFailures"]')" = 0 ] &&
  ! grep -q "Killing" "$MNT/pods/errored/events" && phase_is errored Running
}
check "a probe that errors (unknown named port) is not a failure: event 'errored and resulted in unknown state', no kill" t_probe_error

t_probe_grace() {
  pod pgrace <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 60
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    livenessProbe:
      exec: {command: ["false"]}
      periodSeconds: 1
      failureThreshold: 1
      terminationGracePeriodSeconds: 1
YAML
  local t0
  t0=$(now_ms)
  wait_for 25 restarts_ge pgrace 1 || { cat "$MNT/pods/pgrace/events"; return 1; }
  # killed after the probe's 1 s (2 s minimum), not the pod's 60 s
  [ $(( $(now_ms) - t0 )) -lt 25000 ] &&
  [ "$(c0 pgrace '["lastState"]["terminated"]["exitCode"]')" = 137 ] &&
  [ "$(c0 pgrace '["lastState"]["terminated"]["signal"]')" = 9 ]
}
check "liveness kill uses the probe's terminationGracePeriodSeconds (1 s -> 2 s), not the pod's 60 s: 137" t_probe_grace

t_exit_143_prestop_failed() {
  pod term143 <<'YAML'
apiVersion: v1
kind: Pod
spec:
  shareProcessNamespace: true
  terminationGracePeriodSeconds: 5
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    lifecycle:
      preStop:
        exec: {command: ["sh", "-c", "exit 3"]}
    livenessProbe:
      exec: {command: ["false"]}
      initialDelaySeconds: 1
      periodSeconds: 1
      failureThreshold: 1
YAML
  wait_for 30 restarts_ge term143 1 || { cat "$MNT/pods/term143/events"; return 1; }
  # not PID 1 (the infra is, with a shared process namespace): SIGTERM kills
  [ "$(c0 term143 '["lastState"]["terminated"]["exitCode"]')" = 143 ] &&
  [ "$(c0 term143 '["lastState"]["terminated"]["reason"]')" = Error ] &&
  [ "$(c0 term143 '["lastState"]["terminated"]["signal"]')" = 15 ] || { cat "$MNT/pods/term143/status"; return 1; }
  file_has "$MNT/pods/term143/events" "Warning FailedPreStopHook app: PreStopHook failed:"
}
check "SIGTERM-killed container exits 143 (signal 15); a failing preStop gives FailedPreStopHook and the stop goes on" t_exit_143_prestop_failed

t_completed() {
  pod done <<'YAML'
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  initContainers:
  - name: init
    image: busybox
    command: ["true"]
  containers:
  - name: app
    image: busybox
    command: ["true"]
YAML
  wait_for 20 phase_is done Succeeded || return 1
  grep -q "done  *0/1  *Completed  *0 " "$MNT/ps" &&
  [ "$(cond done Initialized '["status"]')" = True ] &&
  [ "$(cond done Initialized '["reason"]')" = PodCompleted ] &&
  [ "$(cond done Ready '["status"]')" = False ] && [ "$(cond done Ready '["reason"]')" = PodCompleted ] &&
  [ "$(cond done ContainersReady '["reason"]')" = PodCompleted ] &&
  [ "$(st done 'd["initContainerStatuses"][0]["state"]["terminated"]["reason"]')" = Completed ] &&
  [ "$(c0 done '["state"]["terminated"]["reason"]')" = Completed ]
}
check "a pod that succeeded: ps Completed, Initialized True / Ready False with reason PodCompleted" t_completed

t_init_crashloop_ps() {
  pod initcrash <<'YAML'
apiVersion: v1
kind: Pod
spec:
  initContainers:
  - name: init
    image: busybox
    command: ["false"]
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
YAML
  # the back-off is scaled by 0.1 here: 1 s, 2 s, 4 s ...
  wait_for 30 bash -c "grep -Eq 'initcrash  *0/1  *Init:CrashLoopBackOff  *[2-9] \([0-9]+s ago\)' '$MNT/ps'" ||
    { grep initcrash "$MNT/ps"; return 1; }
  [ "$(st initcrash 'd["initContainerStatuses"][0]["state"]["waiting"]["reason"]')" = CrashLoopBackOff ] &&
  [ "$(st initcrash 'd["initContainerStatuses"][0]["lastState"]["terminated"]["exitCode"]')" = 1 ] &&
  [ "$(cond initcrash Initialized '["message"]')" = "containers with incomplete status: [init]" ] &&
  phase_is initcrash Pending
}
check "init container crash-looping: ps 'Init:CrashLoopBackOff' with 'N (Xs ago)' restarts, Pending" t_init_crashloop_ps

t_success_threshold() {
  pod thresh <<'YAML'
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "touch /tmp/ready; exec sleep 3600"]
    readinessProbe:
      exec: {command: ["cat", "/tmp/ready"]}
      periodSeconds: 1
      successThreshold: 3
YAML
  # one snapshot at a time: ready only once 3 successes in a row were seen
  local snap seen_unready=0 i
  for i in $(seq 150); do
    snap=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["containerStatuses"][0]; r=d.get("probes",{}).get("readiness",{}); print(d["ready"], r.get("consecutiveSuccesses", 0))' "$MNT/pods/thresh/status.json" 2>/dev/null)
    case $snap in
      "False 1"|"False 2") seen_unready=1 ;;
      True*) break ;;
    esac
    sleep 0.1
  done
  echo "ready at: $snap (saw 1 or 2 successes unready: $seen_unready)"
  [ "${snap%% *}" = True ] && [ "${snap##* }" -ge 3 ] && [ "$seen_unready" = 1 ]
}
check "readiness successThreshold 3: not ready after 1 or 2 successes, ready after the third" t_success_threshold

t_sidecar_restart() {
  pod sidecrash <<'YAML'
apiVersion: v1
kind: Pod
spec:
  initContainers:
  - name: side
    image: busybox
    restartPolicy: Always
    command: ["sh", "-c", "sleep 2; exit 1"]
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
YAML
  wait_for 30 bash -c "[ \$(python3 -c 'import json;print(json.load(open(\"$MNT/pods/sidecrash/status.json\"))[\"initContainerStatuses\"][0][\"restartCount\"])') -ge 2 ]" ||
    { cat "$MNT/pods/sidecrash/status"; return 1; }
  # the sidecar is restarted whatever the pod's policy; the app is untouched
  [ "$(c0 sidecrash '["restartCount"]')" = 0 ] && [ -n "$(c0 sidecrash '["state"]["running"]')" ] &&
  [ "$(st sidecrash 'd["initContainerStatuses"][0]["lastState"]["terminated"]["exitCode"]')" = 1 ] &&
  phase_is sidecrash Running && grep -Eq "sidecrash  *[0-2]/2 " "$MNT/ps"
}
check "a sidecar that exits is restarted (with back-off) while the app keeps running; READY counts it" t_sidecar_restart

t_redirects() {
  # CGI scripts for busybox httpd, from a hostPath directory
  mkdir -p "$T/cgi"
  printf '#!/bin/sh\nprintf "Status: 302 Found\\r\\nLocation: http://elsewhere.invalid/x\\r\\nContent-Type: text/plain\\r\\n\\r\\nmoved away"\n' >"$T/cgi/away"
  printf '#!/bin/sh\nprintf "Status: 302 Found\\r\\nLocation: /index.html\\r\\n\\r\\n"\n' >"$T/cgi/here"
  chmod 0755 "$T/cgi/away" "$T/cgi/here"
  pod redir <<YAML
apiVersion: v1
kind: Pod
spec:
  volumes:
  - name: cgi
    hostPath:
      path: $T/cgi
  containers:
  - name: web
    image: docker.io/arisu1000/simple-container-app:latest
    volumeMounts: [{name: cgi, mountPath: /www/cgi-bin}]
    readinessProbe: {httpGet: {path: /cgi-bin/away, port: 8080}, periodSeconds: 1}
    livenessProbe: {httpGet: {path: /cgi-bin/here, port: 8080}, periodSeconds: 1, failureThreshold: 1}
    # liveness waits for httpd to listen (a loaded machine may be slow)
    startupProbe: {tcpSocket: {port: 8080}, periodSeconds: 1, failureThreshold: 60}
YAML
  # another host: not followed, a warning that counts as success
  wait_for 30 file_has "$MNT/pods/redir/events" \
    "Warning ProbeWarning web: Readiness probe warning: Probe terminated redirects, Response body: moved away" ||
    { cat "$MNT/pods/redir/events"; return 1; }
  wait_for 10 bash -c "[ \"\$(python3 -c 'import json;print(json.load(open(\"$MNT/pods/redir/status.json\"))[\"containerStatuses\"][0][\"ready\"])')\" = True ]" || return 1
  # the same host: followed to /index.html (200), no warning, no kill
  sleep 3
  [ "$(c0 redir '["probes"]["liveness"]["lastProbe"]')" = Success ] &&
  [ "$(c0 redir '["restartCount"]')" = 0 ] &&
  ! grep -q "Liveness probe warning" "$MNT/pods/redir/events"
}
check "httpGet redirects: to another host not followed (ProbeWarning, success); same host followed" t_redirects

finish
