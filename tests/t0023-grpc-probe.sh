#!/usr/bin/env bash
# t0023-grpc-probe: grpc probes against a real gRPC health server in a pod.
# The server (tests/grpc-health-server.c, built static here) goes into a
# test image made by this test from the busybox image (the shared test
# images stay as they are); it answers each Check from files in a hostPath
# directory, so the test turns a service SERVING or NOT_SERVING at will.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
command -v gcc >/dev/null || skip_all "gcc not installed"
images_import || { echo "image import failed"; echo "0 passed, 1 failed"; exit 1; }

build_image() {
  gcc -static -O2 -o "$T/grpc-health-server" "$TOP/tests/grpc-health-server.c" &&
  cp -a "$IMAGES/busybox" "$T/grpc-img" &&
  umoci unpack --image "$T/grpc-img:latest" "$T/bundle" >/dev/null &&
  install -m 0755 "$T/grpc-health-server" "$T/bundle/rootfs/bin/grpc-health-server" &&
  umoci repack --image "$T/grpc-img:latest" "$T/bundle" >/dev/null &&
  umoci config --image "$T/grpc-img:latest" --clear=config.cmd \
    --config.cmd /bin/grpc-health-server --config.cmd 9090 --config.cmd /health >/dev/null &&
  "$PODFS" --state-dir "$STATE" image import "$T/grpc-img" grpc-health:latest >/dev/null &&
  rm -rf "$T/bundle"
}
build_image || { echo "could not build the grpc test image"; echo "0 passed, 1 failed"; exit 1; }
podfs_start --backoff-scale 0.1 || { echo "0 passed, 1 failed"; exit 1; }

pod() { mkdir "$MNT/pods/$1" && cat >"$MNT/pods/$1/spec.yaml"; }
st() { json_get "$MNT/pods/$1/status.json" "$2"; }
c0() { st "$1" "d[\"containerStatuses\"][0]$2"; }
cond() { st "$1" "[c for c in d[\"conditions\"] if c[\"type\"]==\"$2\"][0]$3"; }
is_ready() { [ "$(c0 "$1" '["ready"]')" = "$2" ] && [ "$(cond "$1" Ready '["status"]')" = "$3" ]; }

# grpc_pod NAME DIR PROBES: a pod of the grpc image answering from DIR
grpc_pod() {
  pod "$1" <<YAML
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: h
    hostPath:
      path: $2
  containers:
  - name: app
    image: grpc-health:latest
    imagePullPolicy: IfNotPresent
    volumeMounts: [{name: h, mountPath: /health}]
$3
YAML
}

t_serving_ready() {
  mkdir -p "$T/h1" && echo SERVING >"$T/h1/default"
  grpc_pod g1 "$T/h1" "    readinessProbe: {grpc: {port: 9090}, periodSeconds: 1}"
  wait_for 30 is_ready g1 True True || { cat "$MNT/pods/g1/status"; return 1; }
  [ "$(c0 g1 '["probes"]["readiness"]["result"]')" = Success ] &&
  [ "$(c0 g1 '["probes"]["readiness"]["lastProbe"]')" = Success ] &&
  grep -q "g1  *1/1  *Running" "$MNT/ps"
}
check "grpc readiness against a SERVING health server: ready, Ready condition True" t_serving_ready

t_not_serving_unready() {
  echo NOT_SERVING >"$T/h1/default"
  wait_for 15 is_ready g1 False False || { cat "$MNT/pods/g1/status"; return 1; }
  [ "$(c0 g1 '["probes"]["readiness"]["lastFailureMessage"]')" = 'service unhealthy (responded with "NOT_SERVING")' ] &&
  file_has "$MNT/pods/g1/events" 'Warning Unhealthy app: Readiness probe failed: service unhealthy (responded with "NOT_SERVING")' &&
  [ "$(cond g1 ContainersReady '["message"]')" = "containers with unready status: [app]" ] &&
  grep -q "g1  *0/1  *Running  *0 " "$MNT/ps" || return 1
  # SERVING again: ready again, never restarted (readiness does not kill)
  echo SERVING >"$T/h1/default"
  wait_for 15 is_ready g1 True True && [ "$(c0 g1 '["restartCount"]')" = 0 ]
}
check "grpc readiness NOT_SERVING: not ready with the kubelet's message, then ready again, no restart" t_not_serving_unready

t_liveness_kill() {
  mkdir -p "$T/h2" && echo SERVING >"$T/h2/default" && echo NOT_SERVING >"$T/h2/sick"
  grpc_pod g2 "$T/h2" "    livenessProbe: {grpc: {port: 9090, service: sick}, periodSeconds: 1, failureThreshold: 2}"
  wait_for 40 bash -c "[ \$(python3 -c 'import json;print(json.load(open(\"$MNT/pods/g2/status.json\"))[\"containerStatuses\"][0][\"restartCount\"])') -ge 1 ]" ||
    { cat "$MNT/pods/g2/events"; return 1; }
  file_has "$MNT/pods/g2/events" 'Warning Unhealthy app: Liveness probe failed: service unhealthy (responded with "NOT_SERVING")' &&
  file_has "$MNT/pods/g2/events" "Normal  Killing app: Container app failed liveness probe, will be restarted" || return 1
  # the server ignores SIGTERM as PID 1: killed after the 2 s minimum grace
  [ "$(c0 g2 '["lastState"]["terminated"]["exitCode"]')" = 137 ] || return 1
  # healthy again: no more restarts
  echo SERVING >"$T/h2/sick"
  local n
  n=$(c0 g2 '["restartCount"]')
  wait_for 20 bash -c "[ \"\$(python3 -c 'import json;print(json.load(open(\"$MNT/pods/g2/status.json\"))[\"containerStatuses\"][0][\"probes\"][\"liveness\"][\"lastProbe\"])')\" = Success ]" || return 1
  sleep 4
  [ "$(c0 g2 '["restartCount"]')" -le $((n + 1)) ] && [ "$(c0 g2 '["probes"]["liveness"]["result"]')" = Success ]
}
check "grpc liveness NOT_SERVING for a named service: Unhealthy, Killing, restarted (137)" t_liveness_kill

t_unknown_service() {
  mkdir -p "$T/h3" && echo SERVING >"$T/h3/default"
  grpc_pod g3 "$T/h3" "    readinessProbe: {grpc: {port: 9090, service: nope}, periodSeconds: 1}"
  local want='error: health rpc probe failed: rpc error: code = NotFound desc = unknown service'
  wait_for 20 bash -c "grep -qF 'Readiness probe failed: $want' '$MNT/pods/g3/events'" ||
    { cat "$MNT/pods/g3/events"; return 1; }
  [ "$(c0 g3 '["probes"]["readiness"]["lastFailureMessage"]')" = "$want" ] &&
  is_ready g3 False False && phase_is g3 Running
}
check "grpc probe of an unknown service: failure with the kubelet's NotFound message, never ready" t_unknown_service

finish
