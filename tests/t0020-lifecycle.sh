#!/usr/bin/env bash
# t0020-lifecycle: the kubelet's lifecycle, after Kubernetes' node
# conformance tests (test/e2e/common/node: container_probe.go,
# init_container.go, lifecycle_hook.go, runtime.go, pods.go): probes of
# every handler, init containers, hooks, termination messages, deadlines.
# Back-off is scaled by 0.1 here (t0021 checks the real 10 s / 20 s).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
images_import || fail_all "image import failed"
podfs_start --backoff-scale 0.1 || fail_all

ready() { c0 "$1" '["ready"]'; }
cond() { st "$1" "[c for c in d[\"conditions\"] if c[\"type\"]==\"$2\"][0]$3"; }

t_liveness_exec_restart() {
  pod live-exec <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: busybox
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; echo ok >/tmp/health; sleep 3; rm -f /tmp/health; while true; do sleep 0.2; done"]
    livenessProbe:
      exec:
        command: ["cat", "/tmp/health"]
      initialDelaySeconds: 1
      periodSeconds: 1
      failureThreshold: 1
YAML
  wait_for 30 st_cmp live-exec 'd["containerStatuses"][0]["restartCount"]' -ge 1 &&
  grep -q "Warning Unhealthy busybox: Liveness probe failed:" "$MNT/pods/live-exec/events" &&
  grep -q "Normal  Killing busybox: Container busybox failed liveness probe, will be restarted" "$MNT/pods/live-exec/events" &&
  [ "$(c0 live-exec '["lastState"]["terminated"]["message"]')" != "" ] &&
  phase_is live-exec Running
}
check "liveness exec probe failing: Unhealthy, Killing, restarted (container_probe.go)" t_liveness_exec_restart

t_liveness_exec_ok() {
  pod live-ok <<'YAML'
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: busybox
    image: busybox
    command: ["sh", "-c", "echo ok >/tmp/health; sleep 3600"]
    livenessProbe:
      exec:
        command: ["cat", "/tmp/health"]
      periodSeconds: 1
YAML
  wait_for 20 phase_is live-ok Running && sleep 4 &&
  [ "$(restarts live-ok)" = 0 ] &&
  [ "$(c0 live-ok '["probes"]["liveness"]["result"]')" = Success ] &&
  [ "$(c0 live-ok '["probes"]["liveness"]["consecutiveSuccesses"]')" -ge 3 ]
}
check "liveness exec probe passing: no restart, probe results in status" t_liveness_exec_ok

t_readiness_exec() {
  pod ready-exec <<'YAML'
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: busybox
    image: busybox
    command: ["sh", "-c", "sleep 3; touch /tmp/ready; sleep 3600"]
    readinessProbe:
      exec:
        command: ["test", "-f", "/tmp/ready"]
      periodSeconds: 1
YAML
  wait_for 20 phase_is ready-exec Running &&
  [ "$(ready ready-exec)" = False ] &&
  [ "$(cond ready-exec ContainersReady '["message"]')" = "containers with unready status: [busybox]" ] &&
  grep -q "ready-exec  *0/1  *Running" "$MNT/ps" &&
  wait_for 15 bash -c "grep -q 'ready-exec  *1/1  *Running' '$MNT/ps'" &&
  [ "$(ready ready-exec)" = True ] && [ "$(cond ready-exec Ready '["status"]')" = True ] &&
  [ "$(restarts ready-exec)" = 0 ]
}
check "readiness exec probe: not ready, then ready; never restarted" t_readiness_exec

t_http_probes() {
  pod http <<'YAML'
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: web
    image: arisu1000/simple-container-app:latest
    ports:
    - name: http
      containerPort: 8080
    readinessProbe:
      httpGet:
        path: /index.html
        port: http
      periodSeconds: 1
    livenessProbe:
      tcpSocket:
        port: 8080
      periodSeconds: 1
YAML
  wait_for 20 bash -c "grep -q 'http  *1/1  *Running' '$MNT/ps'" &&
  [ "$(c0 http '["probes"]["readiness"]["result"]')" = Success ] &&
  [ "$(c0 http '["probes"]["liveness"]["result"]')" = Success ] && [ "$(restarts http)" = 0 ]
}
check "httpGet readiness on a named port and tcpSocket liveness: ready, no restarts" t_http_probes

t_http_404_liveness() {
  pod http404 <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: arisu1000/simple-container-app:latest
    livenessProbe:
      httpGet:
        path: /missing
        port: 8080
      periodSeconds: 1
      failureThreshold: 2
YAML
  wait_for 30 st_cmp http404 'd["containerStatuses"][0]["restartCount"]' -ge 1 &&
  grep -q "Liveness probe failed: HTTP probe failed with statuscode: 404" "$MNT/pods/http404/events"
}
check "httpGet liveness answered 404: 'HTTP probe failed with statuscode: 404', restarted" t_http_404_liveness

t_exec_timeout() {
  pod exec-timeout <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: busybox
    image: busybox
    command: ["sleep", "3600"]
    livenessProbe:
      exec:
        command: ["sleep", "10"]
      timeoutSeconds: 1
      periodSeconds: 2
      failureThreshold: 1
YAML
  wait_for 30 st_cmp exec-timeout 'd["containerStatuses"][0]["restartCount"]' -ge 1 &&
  grep -q "Liveness probe failed:.*timed out" "$MNT/pods/exec-timeout/events"
}
check "exec probe over timeoutSeconds is a failure ('timed out') and restarts (e2e sleep 10 / timeout 1)" t_exec_timeout

t_startup_gates() {
  pod startup <<'YAML'
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: busybox
    image: busybox
    command: ["sh", "-c", "sleep 3; touch /tmp/started; sleep 3600"]
    startupProbe:
      exec:
        command: ["test", "-f", "/tmp/started"]
      periodSeconds: 1
      failureThreshold: 30
    livenessProbe:
      exec:
        command: ["test", "-f", "/tmp/started"]
      periodSeconds: 1
      failureThreshold: 1
YAML
  wait_for 20 phase_is startup Running &&
  [ "$(c0 startup '["started"]')" = False ] && [ "$(ready startup)" = False ] &&
  wait_for 15 st_cmp startup 'd["containerStatuses"][0]["started"]' = True &&
  sleep 2 && [ "$(restarts startup)" = 0 ] && [ "$(ready startup)" = True ] &&
  [ "$(c0 startup '["probes"]["liveness"]["result"]')" = Success ]
}
check "startupProbe gates liveness: started=false until it passes, then liveness runs, no restart" t_startup_gates

t_poststart_exec() {
  pod poststart <<'YAML'
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: busybox
    image: busybox
    command: ["sh", "-c", "until [ -f /tmp/hooked ]; do sleep 0.1; done; echo saw-hook; sleep 3600"]
    lifecycle:
      postStart:
        exec:
          command: ["sh", "-c", "echo done >/tmp/hooked"]
YAML
  wait_for 20 phase_is poststart Running && wait_for 10 file_has "$MNT/pods/poststart/logs" saw-hook
}
check "postStart exec hook runs in the container" t_poststart_exec

t_poststart_fail() {
  pod poststart-fail <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: busybox
    image: busybox
    command: ["sleep", "3600"]
    lifecycle:
      postStart:
        exec:
          command: ["sh", "-c", "exit 1"]
YAML
  wait_for 20 grep -q "Warning FailedPostStartHook busybox: PostStartHook failed" "$MNT/pods/poststart-fail/events" &&
  wait_for 20 st_cmp poststart-fail 'd["containerStatuses"][0]["restartCount"]' -ge 1
}
check "postStart hook failing: FailedPostStartHook, container killed and restarted" t_poststart_fail

t_prestop() {
  mkdir -p "$T/prestop"
  pod prestop <<YAML
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 10
  volumes:
  - name: out
    hostPath:
      path: $T/prestop
  containers:
  - name: busybox
    image: busybox
    command: ["sh", "-c", "trap 'echo got-term >>/out/log; exit 0' TERM; while true; do sleep 0.1; done"]
    volumeMounts:
    - name: out
      mountPath: /out
    lifecycle:
      preStop:
        exec:
          command: ["sh", "-c", "echo prestop >>/out/log"]
YAML
  wait_for 20 phase_is prestop Running && rm -r "$MNT/pods/prestop" &&
  [ "$(cat "$T/prestop/log")" = "prestop
got-term" ]
}
check "preStop exec hook runs before SIGTERM on deletion" t_prestop

t_prestop_sleep() {
  pod prestop-sleep <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 10
  containers:
  - name: busybox
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    lifecycle:
      preStop:
        sleep:
          seconds: 2
YAML
  wait_for 20 phase_is prestop-sleep Running || return 1
  local t0 t1; t0=$(now_ms); rm -r "$MNT/pods/prestop-sleep"; t1=$(now_ms)
  echo "deletion took $((t1 - t0)) ms"
  [ $((t1 - t0)) -ge 1900 ] && [ $((t1 - t0)) -lt 5000 ]
}
check "preStop sleep hook delays SIGTERM by its seconds" t_prestop_sleep

t_termination_message() {
  pod termmsg <<'YAML'
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  containers:
  - name: busybox
    image: busybox
    command: ["sh", "-c", "printf 'DONE' >/dev/termination-log; exit 1"]
YAML
  wait_for 20 phase_is termmsg Failed &&
  [ "$(c0 termmsg '["state"]["terminated"]["message"]')" = DONE ]
}
check "termination message from /dev/termination-log (runtime.go)" t_termination_message

t_termination_custom_path() {
  pod termpath <<'YAML'
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  containers:
  - name: busybox
    image: busybox
    command: ["sh", "-c", "printf 'OK' >/dev/termination-custom-log; exit 0"]
    terminationMessagePath: /dev/termination-custom-log
YAML
  wait_for 20 phase_is termpath Succeeded &&
  [ "$(c0 termpath '["state"]["terminated"]["message"]')" = OK ]
}
check "termination message from a custom terminationMessagePath" t_termination_custom_path

t_fallback_logs() {
  pod fallback <<'YAML'
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  containers:
  - name: busybox
    image: busybox
    command: ["sh", "-c", "echo first; echo DONE; exit 1"]
    terminationMessagePolicy: FallbackToLogsOnError
YAML
  wait_for 20 phase_is fallback Failed &&
  [ "$(c0 fallback '["state"]["terminated"]["message"].encode().hex()')" = "$(printf 'first\nDONE\n' | od -An -tx1 | tr -d ' \n')" ]
}
check "FallbackToLogsOnError: the log's tail becomes the message on failure" t_fallback_logs

t_fallback_success() {
  pod fallback-ok <<'YAML'
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  containers:
  - name: busybox
    image: busybox
    command: ["sh", "-c", "echo DONE; exit 0"]
    terminationMessagePolicy: FallbackToLogsOnError
YAML
  wait_for 20 phase_is fallback-ok Succeeded &&
  [ "$(c0 fallback-ok '["state"]["terminated"].get("message", "")')" = "" ]
}
check "FallbackToLogsOnError on success: no message" t_fallback_success

t_deadline() {
  pod deadline <<'YAML'
apiVersion: v1
kind: Pod
spec:
  activeDeadlineSeconds: 2
  terminationGracePeriodSeconds: 1
  containers:
  - name: busybox
    image: busybox
    command: ["sleep", "3600"]
YAML
  wait_for 15 phase_is deadline Failed &&
  [ "$(st deadline 'd["reason"]')" = DeadlineExceeded ] &&
  [ "$(st deadline 'd["message"]')" = "Pod was active on the node longer than the specified deadline" ] &&
  grep -q "Warning DeadlineExceeded" "$MNT/pods/deadline/events" &&
  wait_for 10 st_cmp deadline 'd["containerStatuses"][0]["state"].get("terminated",{}).get("exitCode",-1)' -ge 128
}
check "activeDeadlineSeconds: Failed, reason DeadlineExceeded, containers killed" t_deadline

t_init_failure_retry() {
  mkdir -p "$T/initretry"
  pod initretry <<YAML
apiVersion: v1
kind: Pod
spec:
  volumes:
  - name: d
    hostPath:
      path: $T/initretry
  initContainers:
  - name: first
    image: busybox
    command: ["sh", "-c", "echo x >>/d/first"]
    volumeMounts: [{name: d, mountPath: /d}]
  - name: flaky
    image: busybox
    command: ["sh", "-c", "echo x >>/d/flaky; [ \$(wc -l </d/flaky) -ge 3 ]"]
    volumeMounts: [{name: d, mountPath: /d}]
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
YAML
  wait_for 10 bash -c "grep -Eq 'initretry  *0/1  *Init:(Error|CrashLoopBackOff)' '$MNT/ps'" &&
  wait_for 30 phase_is initretry Running &&
  [ "$(wc -l <"$T/initretry/first")" = 1 ] && [ "$(wc -l <"$T/initretry/flaky")" = 3 ] &&
  [ "$(st initretry 'd["initContainerStatuses"][1]["restartCount"]')" = 2 ]
}
check "a failing init container is retried alone (earlier ones not re-run), then the app starts" t_init_failure_retry

t_init_never() {
  pod initnever <<'YAML'
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  initContainers:
  - name: init
    image: busybox
    command: ["false"]
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
YAML
  wait_for 20 phase_is initnever Failed &&
  grep -q "initnever  *0/1  *Init:Error" "$MNT/ps" &&
  [ "$(st initnever 'd["containerStatuses"][0]["state"]["waiting"]["reason"]')" = PodInitializing ] &&
  [ "$(cond initnever Initialized '["reason"]')" = ContainersNotInitialized ]
}
check "init container failing with restartPolicy Never: pod Failed, app never started" t_init_never

t_sidecar() {
  pod sidecar <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  initContainers:
  - name: side
    image: busybox
    restartPolicy: Always
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do echo side; sleep 1; done"]
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
YAML
  wait_for 20 bash -c "grep -q 'sidecar  *2/2  *Running' '$MNT/ps'" &&
  [ "$(st sidecar 'd["initContainerStatuses"][0]["state"]["running"] is not None')" = True ] &&
  rm -r "$MNT/pods/sidecar"
}
check "a sidecar (init container with restartPolicy Always) keeps running and counts in READY" t_sidecar

t_sidecar_completion() {
  pod sidecar-job <<'YAML'
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  initContainers:
  - name: side
    image: busybox
    restartPolicy: Always
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
  containers:
  - name: job
    image: busybox
    command: ["sh", "-c", "sleep 1; echo finished"]
YAML
  wait_for 20 phase_is sidecar-job Succeeded &&
  wait_for 10 st_cmp sidecar-job 'list(d["initContainerStatuses"][0]["state"])' = "['terminated']"
}
check "sidecars do not block completion and are stopped after the app" t_sidecar_completion

t_ps_terminating() {
  pod slowstop <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: busybox
    image: busybox
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"]
YAML
  wait_for 20 phase_is slowstop Running || return 1
  rmdir "$MNT/pods/slowstop" &
  local r=$!
  wait_for 5 grep -q "slowstop  *[0-9]/1  *Terminating" "$MNT/ps"
  local seen=$?
  wait "$r"
  [ "$seen" = 0 ] && [ ! -e "$MNT/pods/slowstop" ]
}
check "ps shows Terminating while a pod is being deleted" t_ps_terminating

finish
