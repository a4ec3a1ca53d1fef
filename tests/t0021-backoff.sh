#!/usr/bin/env bash
# t0021-backoff: CrashLoopBackOff with the kubelet's real timings (no
# --backoff-scale): a container that exits at once is restarted at once,
# then after 10 s, then after 20 s; the waiting message names the back-off.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
images_import || fail_all "image import failed"
podfs_start || fail_all

mkdir -p "$T/starts"
mkdir "$MNT/pods/crash"
cat >"$MNT/pods/crash/spec.yaml" <<YAML
apiVersion: v1
kind: Pod
spec:
  volumes:
  - name: d
    hostPath:
      path: $T/starts
  containers:
  - name: crash
    image: busybox
    command: ["sh", "-c", "cut -d' ' -f1 /proc/uptime >>/d/starts; exit 1"]
    volumeMounts: [{name: d, mountPath: /d}]
YAML

t_sequence() {
  wait_for 60 bash -c "[ \$(wc -l <'$T/starts/starts') -ge 4 ]" || { cat "$T/starts/starts"; return 1; }
  python3 - "$T/starts/starts" <<'PY'
import sys
t = [float(x) for x in open(sys.argv[1]).read().split()][:4]
gaps = [round(b - a, 2) for a, b in zip(t, t[1:])]
print("gaps between starts:", gaps)
ok = gaps[0] < 3.0 and 9.5 <= gaps[1] <= 13.0 and 19.5 <= gaps[2] <= 24.0
sys.exit(0 if ok else 1)
PY
}
check "restarts: immediate, then 10 s, then 20 s (kubelet's back-off)" t_sequence

t_message() {
  wait_for 25 grep -q "back-off 40s restarting failed container=crash pod=crash_default(" "$MNT/pods/crash/status" &&
  grep -q "reason: CrashLoopBackOff" "$MNT/pods/crash/status" &&
  grep -q "crash  *0/1  *CrashLoopBackOff  *3 (" "$MNT/ps" &&
  [ "$(grep -c 'Warning BackOff crash: Back-off restarting failed container crash' "$MNT/pods/crash/events")" -ge 2 ] &&
  phase_is crash Running
}
check "CrashLoopBackOff: 'back-off 40s restarting failed container=crash pod=crash_default(uid)', phase Running" t_message

finish
