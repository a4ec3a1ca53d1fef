#!/usr/bin/env bash
# t0052-eviction: local ephemeral storage eviction as the kubelet's
# eviction manager does it (every 10 s): a disk emptyDir over its
# sizeLimit, a container's writable layer over its ephemeral-storage
# limit, a pod over the sum of its containers' limits. The pod is Failed
# with reason Evicted and the kubelet's message, a Warning Evicted event
# and a DisruptionTarget condition; its containers are stopped with 2 s of
# grace and not restarted; pods within their limits keep running.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
images_import || fail_all "image import failed"
podfs_start --backoff-scale 0.1 || fail_all

# a container that ignores SIGTERM (the 2 s grace then SIGKILL), says it
# is ready, writes SIZE KiB to FILE, says so, then waits
writer() { # writer NAME FILE KIB
  cat <<YAML
  - name: $1
    image: busybox
    command: ["sh", "-c", "trap '' TERM; echo ready; dd if=/dev/zero of=$2 bs=1024 count=$3 conv=fsync 2>/dev/null; echo wrote $3; while true; do sleep 1; done"]
YAML
}
# vol_yaml GRACE SIZELIMIT: a writer of 2 MiB into an emptyDir of SIZELIMIT
vol_yaml() {
  cat <<YAML
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: $1
  volumes:
  - {name: cache, emptyDir: {sizeLimit: $2}}
  containers:
$(writer app /cache/big 2048)
    volumeMounts: [{name: cache, mountPath: /cache}]
YAML
}
evicted() { phase_is "$1" Failed && [ "$(st "$1" 'd.get("reason")')" = Evicted ]; }

t_setup() {
  vol_yaml 60 1Mi | pod vol &&
  pod ctr <<YAML &&
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 60
  containers:
$(writer big /tmp/big 2048)
    resources: {limits: {ephemeral-storage: 1Mi}}
$(writer small /tmp/small 16)
    resources: {limits: {ephemeral-storage: 8Mi}}
YAML
  pod total <<YAML &&
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 60
  volumes:
  - {name: scratch, emptyDir: {}}
  containers:
$(writer app /scratch/big 3072)
    resources: {limits: {ephemeral-storage: 2Mi}}
    volumeMounts: [{name: scratch, mountPath: /scratch}]
YAML
  pod fits <<YAML
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  volumes:
  - {name: cache, emptyDir: {sizeLimit: 4Mi}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 1Mi}}
  containers:
$(writer app /cache/some 1024)
    resources: {limits: {ephemeral-storage: 8Mi}}
    volumeMounts: [{name: cache, mountPath: /cache}, {name: mem, mountPath: /mem}]
YAML
}
check "four pods: an emptyDir, a container and a pod over their limits, one within" t_setup

t_emptydir() {
  wait_for 40 evicted vol || { cat "$MNT/pods/vol/status"; return 1; }
  local msg='Usage of EmptyDir volume "cache" exceeds the limit "1Mi". '
  [ "$(st vol 'd["message"]')" = "$msg" ] &&
  grep -q "Warning Evicted $msg" "$MNT/pods/vol/events" &&
  [ "$(st vol '[c for c in d["conditions"] if c["type"] == "DisruptionTarget"][0]["reason"]')" = TerminationByKubelet ] &&
  grep -q "^reason: Evicted" "$MNT/pods/vol/status" &&
  grep -qx "Failed" "$MNT/pods/vol/phase"
}
check "an emptyDir over its sizeLimit: Failed, Evicted, the kubelet's message, event and condition" t_emptydir

t_stopped() {
  # SIGTERM ignored: killed after the 2 s minimum, not the pod's 60 s
  wait_for 10 st_cmp vol 'd["containerStatuses"][0]["state"].get("terminated", {}).get("exitCode", -1)' -eq 137 &&
  [ "$(restarts vol)" = 0 ] && sleep 2 && [ "$(restarts vol)" = 0 ] && phase_is vol Failed &&
  grep -q "Killing app: Stopping container app" "$MNT/pods/vol/events"
}
check "its container is killed after 2 s (not its 60 s grace) and not restarted (restartPolicy Always)" t_stopped

t_container() {
  wait_for 40 evicted ctr &&
  [ "$(st ctr 'd["message"]')" = 'Container big exceeded its local ephemeral storage limit "1Mi". ' ] &&
  wait_for 10 st_cmp ctr '[c for c in d["containerStatuses"] if "running" in c["state"]].__len__()' -eq 0
}
check "a container's writable layer over its limit (the pod's sum not reached): Container ... exceeded" t_container

t_total() {
  wait_for 40 evicted total &&
  [ "$(st total 'd["message"]')" = 'Pod ephemeral local storage usage exceeds the total limit of containers 2Mi. ' ]
}
check "container layers, logs and emptyDirs over the sum of the limits: Pod ephemeral ... exceeds" t_total

t_fits() {
  # one full pass (10 s) after it wrote: judged, and still running
  wait_for 30 file_has "$MNT/pods/fits/logs" "wrote 1024" && sleep 11 && phase_is fits Running &&
  [ "$(st fits 'd.get("reason", "")')" = "" ] && ! grep -q Evicted "$MNT/pods/fits/events" &&
  ! st fits '[c["type"] for c in d["conditions"]]' | grep -q DisruptionTarget
}
check "a pod within its limits keeps running" t_fits

t_restart_keeps() {
  podfs_kill9 && podfs_start --backoff-scale 0.1 &&
  grep -q '"evictedAt"' "$STATE/pods/vol/state.json" &&
  evicted vol && [ "$(st vol 'd["message"]')" = 'Usage of EmptyDir volume "cache" exceeds the limit "1Mi". ' ] &&
  sleep 3 && [ "$(restarts vol)" = 0 ] && phase_is fits Running
}
check "podfs restarted: the evicted pods stay evicted, nothing restarts" t_restart_keeps

t_replace_evicted() {
  # a new manifest for an evicted pod: a new pod, not an evicted one
  vol_yaml 2 8Mi >"$MNT/pods/vol/spec.yaml" &&
  wait_for 30 phase_is vol Running && wait_for 20 file_has "$MNT/pods/vol/logs" "wrote 2048" &&
  [ "$(st vol 'd.get("reason", "")')" = "" ] &&
  ! grep -q '"evictedAt"' "$STATE/pods/vol/state.json" &&
  ! st vol '[c["type"] for c in d["conditions"]]' | grep -q DisruptionTarget
}
check "a new manifest for an evicted pod starts a new pod, not evicted" t_replace_evicted

t_node_and_admission() {
  # the node's ephemeral-storage is the state dir's file system
  local cap alloc
  cap=$(python3 -c 'import os,sys; s=os.statvfs(sys.argv[1]); print(s.f_blocks*s.f_frsize)' "$STATE")
  # allocatable: less the kubelet's default nodefs.available<10%
  alloc=$(python3 -c 'import sys; c=int(sys.argv[1]); print(c - int(float(c) * 0.1))' "$cap")
  grep -A2 '^capacity:' "$MNT/node" | grep -q '^  ephemeral-storage: ' &&
  pod huge <<YAML &&
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    resources: {requests: {ephemeral-storage: "$((cap + 1))"}}
YAML
  wait_for 20 phase_is huge Failed &&
  [ "$(st huge 'd["reason"]')" = "OutOfephemeral-storage" ] &&
  st huge 'd["message"]' | grep -q "^Pod was rejected: Node didn't have enough resource: ephemeral-storage, requested: $((cap + 1)), used: [0-9]*, capacity: $alloc\$" &&
  pod envstore <<'YAML' &&
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    env:
    - {name: EPH, valueFrom: {resourceFieldRef: {resource: limits.ephemeral-storage}}}
YAML
  wait_for 30 phase_is envstore Running &&
  [ "$(sed -n 's/^EPH=//p' "$MNT/pods/envstore/env")" = "$alloc" ] &&
  rm -r "$MNT/pods/huge" "$MNT/pods/envstore"
}
check "the node's ephemeral-storage (allocatable: 90%): admission (OutOfephemeral-storage), a missing limit in resourceFieldRef" t_node_and_admission

t_delete() {
  local p
  for p in vol ctr total fits; do rm -r "$MNT/pods/$p" || return 1; done
  no_pods && [ -z "$(runc_ids)" ] && [ -z "$(ls "$STATE/containers")" ]
}
check "evicted pods are deleted like any other" t_delete

finish
