#!/usr/bin/env bash
# bench/probe-cpu.sh [PODS] [SECONDS]: CPU that podfs itself spends running
# probes: PODS pods (default 100), each with a startup, a liveness and a
# readiness probe at periodSeconds 1 (tcpSocket, tcpSocket, httpGet against
# busybox httpd), measured over SECONDS (default 30) once all are ready.
# Prints podfs's CPU as a share of one core (target: under 10%), and for
# scale the same podfs idle with the same pods and no probes.
set -euo pipefail
PODS=${1:-100}
SECS=${2:-30}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP"
make -s
W=$(mktemp -d /tmp/podfs-bench.XXXXXX)
MNT=$W/mnt STATE=$W/state
mkdir -p "$MNT" "$STATE"
PID=
cleanup() {
  if mountpoint -q "$MNT"; then
    ls "$MNT/pods" | xargs -r -P 8 -I{} rmdir "$MNT/pods/{}"
    # the announcer may hold a file open for a moment: retry
    for _ in 1 2 3 4 5; do fusermount3 -u "$MNT" 2>/dev/null && break; sleep 1; done
  fi
  [ -n "$PID" ] && wait "$PID" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
bash scripts/build-images.sh "$W/images" >/dev/null
build/podfs --state-dir "$STATE" image import "$W/images/simple-container-app" web >/dev/null
build/podfs -f --state-dir "$STATE" "$MNT" >"$W/podfs.log" 2>&1 &
PID=$!
while ! mountpoint -q "$MNT"; do sleep 0.05; done

ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
measure() { # measure LABEL: podfs's CPU share of one core over SECS seconds (also in $SHARE)
  local t0 c0 t1 c1 hz
  hz=$(getconf CLK_TCK)
  c0=$(ticks); t0=$(date +%s%N)
  sleep "$SECS"
  c1=$(ticks); t1=$(date +%s%N)
  SHARE=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v ns=$((t1 - t0)) \
    'BEGIN { printf "%.1f", 100 * (c / hz) / (ns / 1e9) }')
  printf '%-34s %s%% of one core\n' "$1" "$SHARE"
}
make_pods() { # make_pods WITH_PROBES
  for i in $(seq "$PODS"); do
    mkdir "$MNT/pods/p$i"
    {
      echo "apiVersion: v1"; echo "kind: Pod"; echo "spec:"
      echo "  terminationGracePeriodSeconds: 0"
      echo "  containers:"; echo "  - name: web"; echo "    image: web:latest"
      echo "    imagePullPolicy: IfNotPresent"
      if [ "$1" = yes ]; then cat <<'YAML'
    startupProbe: {tcpSocket: {port: 8080}, periodSeconds: 1, failureThreshold: 30}
    livenessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
YAML
      fi
    } >"$MNT/pods/p$i/spec.yaml"
  done
  until [ "$(grep -c ' 1/1 *Running' "$MNT/ps")" -ge "$PODS" ]; do sleep 1; done
}
make_pods no
sleep 3
measure "$PODS pods, no probes:"
BASE=$SHARE
ls "$MNT/pods" | xargs -r -P 8 -I{} rmdir "$MNT/pods/{}"
make_pods yes
sleep 3
measure "$PODS pods x 3 probes, period 1 s:"
awk -v p="$SHARE" -v b="$BASE" 'BEGIN { printf "probes cost over the idle baseline: %.1f%% of one core (target < 10%%): %s\n", p - b, (p < 10 ? "met" : "NOT met") }'
echo "probes run in that time: $(cat "$MNT"/pods/*/status.json | grep -c '"lastProbeTime"') probe states with a last probe time (3 per pod: startup keeps its last, liveness, readiness)"
