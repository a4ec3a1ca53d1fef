#!/usr/bin/env bash
# bench/start-latency.sh [RUNS]: time from closing spec.yaml to phase
# Running for a one-container busybox pod, against the same two containers
# (catatonit infra + busybox app joining its namespaces) started with conmon
# and runc directly, in the same run. Prints both medians and the ratio.
# Needs root and the packages of scripts/install-deps.sh; builds podfs.
set -euo pipefail
RUNS=${1:-15}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP"
make -s
W=$(mktemp -d /tmp/podfs-bench.XXXXXX)
MNT=$W/mnt STATE=$W/state
mkdir -p "$MNT" "$STATE"
PODFS_PID=
cleanup() {
  [ -d "$MNT/pods" ] && for d in "$MNT"/pods/*/; do [ -d "$d" ] && rmdir "$d"; done
  mountpoint -q "$MNT" && fusermount3 -u "$MNT"
  [ -n "$PODFS_PID" ] && wait "$PODFS_PID" 2>/dev/null
  for id in $(runc --root "$W/runc" list -q 2>/dev/null); do runc --root "$W/runc" delete -f "$id"; done
  umount -l "$W/direct/app/rootfs" 2>/dev/null || true
  umount -l "$W/netns" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

bash scripts/build-images.sh "$W/images" >/dev/null
build/podfs --state-dir "$STATE" image import "$W/images/busybox" busybox >/dev/null

# --- direct: conmon + runc, infra (catatonit) + app joining it ----------
D=$W/direct
mkdir -p "$D/infra/rootfs/"{proc,dev,sys} "$D/exits" "$D/socks"
cp /usr/bin/catatonit "$D/infra/rootfs/catatonit"
umoci unpack --image "$W/images/busybox:latest" "$D/app" >/dev/null 2>&1
python3 - "$D" <<'PY'
import json, sys
d = sys.argv[1]
c = json.load(open(d + "/app/config.json"))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "sleep 3600"]
c["linux"]["namespaces"] = [{"type": "pid"}, {"type": "mount"},
    {"type": "network", "path": "NETNS"}, {"type": "ipc", "path": "IPC"}, {"type": "uts", "path": "UTS"}]
c.pop("hostname", None)
json.dump(c, open(d + "/app/config.tmpl", "w"))
i = json.loads(json.dumps(c))
i["root"] = {"path": "rootfs", "readonly": True}
i["process"]["args"] = ["/catatonit", "-P"]
i["process"]["user"] = {"uid": 65535, "gid": 65535}
i["hostname"] = "bench"
i["linux"]["namespaces"] = [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"},
    {"type": "network", "path": "NETNS"}]
i["mounts"] = [m for m in i["mounts"] if m["destination"] in ("/proc", "/dev", "/dev/pts", "/dev/shm", "/sys")]
json.dump(i, open(d + "/infra/config.tmpl", "w"))
PY
start_ctr() { # start_ctr ID BUNDLE: conmon + runc create, wait for the pid, runc start
  rm -f "$2/pidfile"; mkdir -p "$2/persist"
  conmon --api-version 1 -c "$1" -u "$1" -n "$1" -r /usr/sbin/runc --runtime-arg "--root=$W/runc" \
    -b "$2" -p "$2/pidfile" -l "k8s-file:$2/log" --exit-dir "$D/exits" --socket-dir-path "$D/socks" \
    --conmon-pidfile "$2/conmon.pid" --persist-dir "$2/persist" --syslog </dev/null >/dev/null 2>&1
  while [ ! -s "$2/pidfile" ]; do sleep 0.002; done
  runc --root "$W/runc" start "$1"
}
direct_once() {
  local t0 t1 ipid
  t0=$(ms)
  touch "$W/netns"; unshare --net=/"$W/netns" true 2>/dev/null || unshare --net="$W/netns" true
  sed "s#NETNS#$W/netns#" "$D/infra/config.tmpl" >"$D/infra/config.json"
  start_ctr infra "$D/infra"
  ipid=$(cat "$D/infra/pidfile")
  sed -e "s#NETNS#$W/netns#" -e "s#IPC#/proc/$ipid/ns/ipc#" -e "s#UTS#/proc/$ipid/ns/uts#" \
    "$D/app/config.tmpl" >"$D/app/config.json"
  start_ctr app "$D/app"
  t1=$(ms)
  echo $((t1 - t0))
  runc --root "$W/runc" delete -f app >/dev/null; runc --root "$W/runc" delete -f infra >/dev/null
  umount "$W/netns"; rm -f "$W/netns"
}

# --- podfs ----------------------------------------------------------------
build/podfs -f --state-dir "$STATE" "$MNT" >"$W/podfs.log" 2>&1 &
PODFS_PID=$!
while ! mountpoint -q "$MNT"; do sleep 0.05; done
SPEC='apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "sleep 3600"]'
podfs_once() {
  local t0 t1
  mkdir "$MNT/pods/b"
  t0=$(ms)
  echo "$SPEC" >"$MNT/pods/b/spec.yaml"   # applied when close() returns
  until [ "$(cat "$MNT/pods/b/phase")" = Running ]; do sleep 0.002; done
  t1=$(ms)
  echo $((t1 - t0))
  rmdir "$MNT/pods/b"
}

direct_once >/dev/null; podfs_once >/dev/null   # warm caches
: >"$W/d"; : >"$W/p"
for i in $(seq "$RUNS"); do direct_once >>"$W/d"; podfs_once >>"$W/p"; done
dm=$(median <"$W/d"); pm=$(median <"$W/p")
echo "runs: $RUNS (alternating)"
echo "direct conmon+runc (infra + app): median ${dm} ms   [$(sort -n "$W/d" | tr '\n' ' ')]"
echo "podfs close(spec.yaml) -> Running: median ${pm} ms   [$(sort -n "$W/p" | tr '\n' ' ')]"
awk -v p="$pm" -v d="$dm" 'BEGIN { printf "ratio podfs/direct: %.2f (target <= 1.30)\n", p / d }'
