#!/usr/bin/env bash
# t0051-env-volumes: the environment and volumes as the kubelet makes them
# (issue 6, kubelet-semantics.md 9): $(VAR) expansion, every fieldRef,
# resourceFieldRef, command/args expansion, in the `env` file and inside
# the container; emptyDir shared by init and app containers, emptyDir in
# memory with its size, hostPath types and their errors, readOnly, subPath
# (escapes refused), cleanup on delete; examples/env.yaml and
# examples/sidecar.yaml.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
images_import || fail_all "image import failed"
NODE=node-t51
podfs_start --backoff-scale 0.1 --node-name "$NODE" || fail_all

envv() { sed -n "s/^$2=//p" "$MNT/pods/$1/${3:+containers/$3/}env"; }
HP=$T/host
mkdir -p "$HP"
# allocatable: capacity less the kubelet's default memory.available<100Mi
NODE_MEM=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 1024 - 104857600 ))

t_env() {
  pod envpod <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  labels: {app: shop, tier: web}
  annotations: {note: "$(FOO) is not expanded"}
spec:
  serviceAccountName: robot
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "echo 'cmd=$(FOO) $$(FOO) $(NOPE)'; env | sort; echo done; sleep 3600"]
    args: ["ignored-by-sh-but-expanded:$(BAR)"]
    resources:
      requests: {cpu: 250m, memory: 32Mi}
      limits: {cpu: 1250m, memory: 64Mi}
    env:
    - {name: FOO, value: foo}
    - {name: BAR, value: "$(FOO)-bar"}
    - {name: ESC, value: "$$(FOO)"}
    - {name: UNRESOLVED, value: "$(NOPE)/$(PATH)/$(LATER)"}
    - {name: LATER, value: later}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: POD_NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    - {name: POD_UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}
    - {name: TIER, valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}}
    - {name: NOTE, valueFrom: {fieldRef: {fieldPath: "metadata.annotations['note']"}}}
    - {name: NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    - {name: SA, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: spec.serviceAccountName}}}
    - {name: HOST_IP, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}
    - {name: HOST_IPS, valueFrom: {fieldRef: {fieldPath: status.hostIPs}}}
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: POD_IPS, valueFrom: {fieldRef: {fieldPath: status.podIPs}}}
    - {name: CPU_LIMIT, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}
    - {name: CPU_REQUEST, valueFrom: {resourceFieldRef: {resource: requests.cpu}}}
    - {name: CPU_LIMIT_M, valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 1m}}}
    - {name: MEM_LIMIT_MI, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    - {name: MEM_REQUEST, valueFrom: {resourceFieldRef: {resource: requests.memory}}}
    - {name: SIDE_MEM_LIMIT, valueFrom: {resourceFieldRef: {containerName: side, resource: limits.memory}}}
    - {name: SIDE_CPU_LIMIT_K, valueFrom: {resourceFieldRef: {containerName: side, resource: limits.cpu, divisor: 1m}}}
  - name: side
    image: busybox
    command: ["sleep", "3600"]
YAML
  wait_for 30 phase_is envpod Running && wait_for 10 file_has "$MNT/pods/envpod/logs" done || return 1
  local e="$MNT/pods/envpod/env" hostip podip uid
  hostip=$(st envpod 'd.get("hostIP", "")')
  podip=$(st envpod 'd.get("podIP", "")')
  uid=$(envv envpod POD_UID)
  [ "$(envv envpod FOO)" = foo ] &&
  [ "$(envv envpod BAR)" = foo-bar ] &&
  [ "$(envv envpod ESC)" = '$(FOO)' ] &&
  [ "$(envv envpod UNRESOLVED)" = '$(NOPE)/$(PATH)/$(LATER)' ] &&
  [ "$(envv envpod POD_NAME)" = envpod ] &&
  [ "$(envv envpod POD_NS)" = default ] &&
  [ -n "$uid" ] && [ -d "/sys/fs/cgroup/memory/podfs/$uid" -o -d "/sys/fs/cgroup/podfs/$uid" ] &&
  [ "$(envv envpod TIER)" = web ] &&
  [ "$(envv envpod NOTE)" = '$(FOO) is not expanded' ] &&
  [ "$(envv envpod NODE_NAME)" = "$NODE" ] &&
  [ "$(envv envpod SA)" = robot ] &&
  [ "$(envv envpod HOST_IP)" = "$hostip" ] && [ "$(envv envpod HOST_IPS)" = "$hostip" ] &&
  [ "$(envv envpod POD_IP)" = "$podip" ] && [ "$(envv envpod POD_IPS)" = "$podip" ] &&
  [ "$(envv envpod CPU_LIMIT)" = 2 ] &&
  [ "$(envv envpod CPU_REQUEST)" = 1 ] &&
  [ "$(envv envpod CPU_LIMIT_M)" = 1250 ] &&
  [ "$(envv envpod MEM_LIMIT_MI)" = 64 ] &&
  [ "$(envv envpod MEM_REQUEST)" = 33554432 ] &&
  [ "$(envv envpod SIDE_MEM_LIMIT)" = "$NODE_MEM" ] &&
  [ "$(envv envpod SIDE_CPU_LIMIT_K)" = "$(( $(nproc) * 1000 ))" ] || { cat "$e"; return 1; }
  # inside the container: the same values, and command/args expanded
  # against the final environment ($$ and unknown names kept)
  local l="$MNT/pods/envpod/logs"
  file_has "$l" 'cmd=foo $(FOO) $(NOPE)' &&
  file_has "$l" "BAR=foo-bar" && file_has "$l" 'ESC=$(FOO)' &&
  file_has "$l" "NODE_NAME=$NODE" && file_has "$l" "TIER=web" &&
  file_has "$l" "SIDE_MEM_LIMIT=$NODE_MEM" &&
  [ "$(c0 envpod '["state"]["running"] != None')" = True ] || { cat "$l"; return 1; }
  # the other container's env file has only its own
  [ -z "$(envv envpod FOO side)" ] && [ "$(envv envpod HOSTNAME side)" = envpod ] &&
  rm -r "$MNT/pods/envpod"
}
check "env: \$(VAR), \$\$, unresolved, every fieldRef, resourceFieldRef with divisors and node allocatable; command expanded" t_env

t_args_expanded() {
  # args alone (with the image's entrypoint none): expanded too
  pod argpod <<'YAML'
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: busybox
    command: ["echo"]
    args: ["$(GREETING)", "$(MISSING)", "$$(GREETING)"]
    env:
    - {name: WHO, value: world}
    - {name: GREETING, value: "hello $(WHO)"}
YAML
  wait_for 30 phase_is argpod Succeeded &&
  [ "$(cat "$MNT/pods/argpod/logs")" = 'hello world $(MISSING) $(GREETING)' ] &&
  rm -r "$MNT/pods/argpod"
}
check "args expanded against the final env: \$(VAR), unresolved kept, \$\$ escapes" t_args_expanded

t_emptydir_shared() {
  pod shared <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  volumes:
  - name: data
    emptyDir: {}
  - name: mem
    emptyDir: {medium: Memory, sizeLimit: 8Mi}
  initContainers:
  - name: init
    image: busybox
    command: ["sh", "-c", "echo from-init >/data/init.txt; echo mem-from-init >/mem/init.txt"]
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: mem, mountPath: /mem}
  containers:
  - name: writer
    image: busybox
    command: ["sh", "-c", "cat /data/init.txt /mem/init.txt; echo from-writer >/data/writer.txt; grep ' /mem ' /proc/mounts; stat -c 'mode=%a' /data; if dd if=/dev/zero of=/mem/big bs=1M count=16 2>/dev/null; then echo mem-unbounded; else echo mem-full; fi; echo writer-done; sleep 3600"]
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: mem, mountPath: /mem}
  - name: reader
    image: busybox
    command: ["sh", "-c", "until [ -f /shared/writer.txt ]; do sleep 0.2; done; cat /shared/init.txt /shared/writer.txt; echo reader-done; sleep 3600"]
    volumeMounts:
    - {name: data, mountPath: /shared}
YAML
  wait_for 30 phase_is shared Running || return 1
  local w="$MNT/pods/shared/containers/writer/logs" r="$MNT/pods/shared/containers/reader/logs"
  wait_for 15 file_has "$w" writer-done && wait_for 15 file_has "$r" reader-done || { cat "$w" "$r"; return 1; }
  file_has "$w" from-init && file_has "$w" mem-from-init &&
  grep -q "^tmpfs /mem tmpfs .*size=8192k" "$w" &&
  file_has "$w" "mode=777" && file_has "$w" mem-full &&
  file_has "$r" from-init && file_has "$r" from-writer || { cat "$w" "$r"; return 1; }
  # on the host: the disk volume under the state dir, the tmpfs mounted once
  local uid dirs mnts
  uid=$(basename "$(dirname "$(ls -d "$STATE"/pods/shared/volumes/*/data)")")
  [ -f "$STATE/pods/shared/volumes/$uid/data/writer.txt" ] &&
  mnts=$(grep -c " [^ ]*/volumes/$uid/mem tmpfs " /proc/self/mounts) && [ "$mnts" = 1 ] || { echo "mounts: $mnts"; return 1; }
  rm -r "$MNT/pods/shared" &&
  [ ! -e "$STATE/pods/shared" ] && ! grep -q "/volumes/$uid/" /proc/self/mounts &&
  ! ls -d /run/podfs/*/volumes/"$uid" 2>/dev/null
}
check "emptyDir shared by init and app containers (0777); Memory emptyDir a tmpfs of sizeLimit; removed on delete" t_emptydir_shared

t_memory_default_size() {
  # no sizeLimit: the pod's memory limit (every container has one)
  pod memsize <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  volumes:
  - {name: mem, emptyDir: {medium: Memory}}
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "grep ' /mem ' /proc/mounts; sleep 3600"]
    resources: {limits: {memory: 48Mi}}
    volumeMounts: [{name: mem, mountPath: /mem}]
YAML
  wait_for 30 phase_is memsize Running && wait_for 10 file_has "$MNT/pods/memsize/logs" tmpfs &&
  grep -q "size=49152k" "$MNT/pods/memsize/logs" && rm -r "$MNT/pods/memsize"
}
check "Memory emptyDir without sizeLimit: sized to the pod's memory limit" t_memory_default_size

hostpath_pod() { # hostpath_pod NAME TYPE PATH MOUNTPATH
  pod "$1" <<YAML
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  volumes:
  - name: hp
    hostPath: {path: "$3", type: "$2"}
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "ls -ld $4; echo written >$4/from-pod 2>/dev/null; echo ready; sleep 3600"]
    volumeMounts: [{name: hp, mountPath: "$4"}]
YAML
}

t_hostpath_dir_or_create() {
  hostpath_pod hpdoc DirectoryOrCreate "$HP/new/dir" /hp &&
  wait_for 30 phase_is hpdoc Running && wait_for 10 file_has "$MNT/pods/hpdoc/logs" ready &&
  [ "$(stat -c %a "$HP/new/dir")" = 755 ] && [ "$(cat "$HP/new/dir/from-pod")" = written ] &&
  rm -r "$MNT/pods/hpdoc" && [ -f "$HP/new/dir/from-pod" ]
}
check "hostPath DirectoryOrCreate: created 0755, shared with the host, kept after delete" t_hostpath_dir_or_create

t_hostpath_directory_missing() {
  hostpath_pod hpdir Directory "$HP/later" /hp || return 1
  local msg="MountVolume.SetUp failed for volume \"hp\" : hostPath type check failed: $HP/later is not a directory"
  wait_for 20 grep -qF "Warning FailedMount $msg" "$MNT/pods/hpdir/events" || { cat "$MNT/pods/hpdir/events"; return 1; }
  phase_is hpdir Pending &&
  [ "$(c0 hpdir '["state"]["waiting"]["reason"]')" = ContainerCreating ] || return 1
  # the kubelet retries: once the directory is there, the pod starts
  mkdir "$HP/later" &&
  wait_for 30 phase_is hpdir Running && rm -r "$MNT/pods/hpdir"
}
check "hostPath Directory missing: FailedMount with the kubelet's words, Pending; starts once it exists" t_hostpath_directory_missing

t_hostpath_file_types() {
  echo content >"$HP/afile"
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$HP/sock"
  pod hpfiles <<YAML
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  volumes:
  - {name: f, hostPath: {path: "$HP/afile", type: File}}
  - {name: foc, hostPath: {path: "$HP/created-file", type: FileOrCreate}}
  - {name: s, hostPath: {path: "$HP/sock", type: Socket}}
  - {name: c, hostPath: {path: /dev/null, type: CharDevice}}
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "cat /f; echo via-pod >/foc; [ -S /s ] && echo socket-ok; [ -c /c ] && echo chardev-ok; echo ready; sleep 3600"]
    volumeMounts:
    - {name: f, mountPath: /f, readOnly: true}
    - {name: foc, mountPath: /foc}
    - {name: s, mountPath: /s}
    - {name: c, mountPath: /c}
YAML
  wait_for 30 phase_is hpfiles Running && wait_for 10 file_has "$MNT/pods/hpfiles/logs" ready || return 1
  local l="$MNT/pods/hpfiles/logs"
  file_has "$l" content && file_has "$l" socket-ok && file_has "$l" chardev-ok &&
  [ "$(stat -c %a "$HP/created-file")" = 644 ] && [ "$(cat "$HP/created-file")" = via-pod ] &&
  rm -r "$MNT/pods/hpfiles"
}
check "hostPath File, FileOrCreate (0644), Socket, CharDevice" t_hostpath_file_types

t_hostpath_type_errors() {
  local name type path what n=0
  while read -r name type path what; do
    n=$((n + 1))
    hostpath_pod "$name" "$type" "$path" /hp || return 1
    wait_for 20 grep -qF "MountVolume.SetUp failed for volume \"hp\" : hostPath type check failed: $path is not $what" "$MNT/pods/$name/events" ||
      { echo "$name:"; cat "$MNT/pods/$name/events"; return 1; }
    phase_is "$name" Pending && rm -r "$MNT/pods/$name" || return 1
  done <<EOF
hpe1 File $HP a file
hpe2 Socket $HP/afile a socket file
hpe3 BlockDevice /dev/null a block device
hpe4 CharDevice $HP/afile a character device
hpe5 Directory $HP/afile a directory
EOF
  [ $n = 5 ]
}
check "hostPath type mismatches: FailedMount 'is not a file/socket file/block device/character device/directory'" t_hostpath_type_errors

t_read_only() {
  pod ro <<'YAML'
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  volumes:
  - {name: data, emptyDir: {}}
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "echo x >/rw/ok && echo rw-ok; if echo x >/ro/no 2>/tmp/err; then echo ro-WRITABLE; else cat /tmp/err; fi; cat /ro/ok"]
    volumeMounts:
    - {name: data, mountPath: /rw}
    - {name: data, mountPath: /ro, readOnly: true}
YAML
  wait_for 30 phase_is ro Succeeded &&
  file_has "$MNT/pods/ro/logs" rw-ok && file_has "$MNT/pods/ro/logs" "Read-only file system" &&
  ! file_has "$MNT/pods/ro/logs" ro-WRITABLE && rm -r "$MNT/pods/ro"
}
check "volumeMounts readOnly: the same volume writable in one place, read-only in another" t_read_only

t_subpath() {
  mkdir -p "$HP/vol/real" && echo inside >"$HP/vol/real/file" &&
  ln -sfn real "$HP/vol/inlink" && ln -sfn ../real "$HP/vol/real/up" || return 1
  pod subp <<YAML
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  volumes:
  - {name: data, emptyDir: {}}
  - {name: hv, hostPath: {path: "$HP/vol", type: Directory}}
  initContainers:
  - name: init
    image: busybox
    command: ["sh", "-c", "echo in-sub >/sub/file"]
    volumeMounts: [{name: data, mountPath: /sub, subPath: a/b}]
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "cat /whole/a/b/file /viasym/file /viaup/file /onefile; ls /whole; echo ready; sleep 3600"]
    volumeMounts:
    - {name: data, mountPath: /whole}
    - {name: hv, mountPath: /viasym, subPath: inlink}
    - {name: hv, mountPath: /viaup, subPath: real/up}
    - {name: hv, mountPath: /onefile, subPath: real/file}
YAML
  wait_for 30 phase_is subp Running && wait_for 10 file_has "$MNT/pods/subp/logs" ready || { cat "$MNT/pods/subp/status" "$MNT/pods/subp/events"; return 1; }
  local l="$MNT/pods/subp/logs"
  file_has "$l" in-sub && [ "$(grep -c '^inside$' "$l")" = 3 ] || { cat "$l"; return 1; }
  # the binds runc mounted from are under the run dir until the pod goes
  local run
  run=$(run_dir)
  [ "$(grep -c " $run/subpaths/" /proc/self/mounts)" = 4 ] &&
  rm -r "$MNT/pods/subp" &&
  ! grep -q " $run/subpaths/" /proc/self/mounts && [ -z "$(ls "$run/subpaths")" ]
}
check "subPath: created in an emptyDir (shared with init), symlinks inside the volume followed, a file; binds gone on delete" t_subpath

t_subpath_escape() {
  mkdir -p "$HP/esc" && ln -sfn /etc "$HP/esc/abs" && ln -sfn ../../.. "$HP/esc/rel" &&
  mkdir -p "$HP/esc/d" && ln -sfn ../../afile "$HP/esc/d/out" || return 1
  local sub n=0
  for sub in abs rel d/out abs/passwd; do
    n=$((n + 1))
    pod "esc$n" <<YAML
apiVersion: v1
kind: Pod
spec:
  volumes:
  - {name: hv, hostPath: {path: "$HP/esc"}}
  containers:
  - name: app
    image: busybox
    command: ["cat", "/x"]
    volumeMounts: [{name: hv, mountPath: /x, subPath: "$sub"}]
YAML
    wait_for 20 bash -c "grep -q CreateContainerConfigError '$MNT/pods/esc$n/status'" || { cat "$MNT/pods/esc$n/status"; return 1; }
    [ "$(c0 "esc$n" '["state"]["waiting"]["message"]')" = \
      'failed to prepare subPath for volumeMount "hv" of container "app"' ] &&
    grep -q 'Warning Failed app: Error: .*failed to prepare subPath for volumeMount "hv" of container "app"' "$MNT/pods/esc$n/events" &&
    ! grep -q "Started app" "$MNT/pods/esc$n/events" &&
    rm -r "$MNT/pods/esc$n" || return 1
  done
  [ $n = 4 ]
}
check "subPath through a symlink out of the volume (absolute, ../.., nested): CreateContainerConfigError, never started" t_subpath_escape

t_unknown_volume() {
  mkdir "$MNT/pods/novol" || return 1
  ! cat >"$MNT/pods/novol/spec.yaml" 2>"$T/err" <<'YAML'
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: app
    image: busybox
    volumeMounts: [{name: nope, mountPath: /x}]
YAML
  local e
  e=$(st novol 'd["lastApplyError"]') &&
  grep -q 'spec.containers\[0\].volumeMounts\[0\].name: Not found: "nope"' <<<"$e" &&
  rmdir "$MNT/pods/novol"
}
check "a volumeMount naming no volume is refused at apply (validation)" t_unknown_volume

t_example_env() {
  mkdir "$MNT/pods/kubernetes-simple-pod" &&
  cp "$TOP/examples/env.yaml" "$MNT/pods/kubernetes-simple-pod/spec.yaml" &&
  wait_for 30 phase_is kubernetes-simple-pod Running || return 1
  local e="$MNT/pods/kubernetes-simple-pod/env"
  grep -qx "HOSTNAME=$NODE" "$e" && grep -qx "TESTENV01=testvalue01" "$e" &&
  grep -qx "GREETING=testvalue01 from kubernetes-simple-pod on $NODE" "$e" &&
  grep -qx "APP_LABEL=kubernetes-simple-pod" "$e" && grep -qx "MEMORY_LIMIT_MI=954" "$e" &&
  [ "$(st kubernetes-simple-pod 'd["qosClass"]')" = Burstable ] || { cat "$e"; return 1; }
  rm -r "$MNT/pods/kubernetes-simple-pod"
}
check "examples/env.yaml: HOSTNAME from spec.nodeName in env, and the seed's other values" t_example_env

t_example_sidecar() {
  mkdir "$MNT/pods/sidecar" && cp "$TOP/examples/sidecar.yaml" "$MNT/pods/sidecar/spec.yaml" &&
  wait_for 30 phase_is sidecar Running || return 1
  local s="$MNT/pods/sidecar/containers/log-shipper/logs"
  wait_for 20 file_has "$s" "app line 3" || { cat "$s" "$MNT/pods/sidecar/events"; return 1; }
  # the lines are the app's, in order, and the app itself printed nothing
  file_has "$s" "app line 1" && file_has "$s" "app line 2" &&
  [ ! -s "$MNT/pods/sidecar/containers/app/logs" ] &&
  grep -q '^sidecar *2/2 *Running' "$MNT/ps" || { cat "$MNT/ps"; return 1; }
  rm -r "$MNT/pods/sidecar"
}
check "examples/sidecar.yaml: the app's log lines come out of the sidecar's logs" t_example_sidecar

t_podfs_restart() {
  # volumes outlive podfs, like the containers: killed and started again,
  # podfs finds the pod, and deleting it still removes every mount
  pod keep <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  volumes:
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 4Mi}}
  - {name: data, emptyDir: {}}
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; echo kept >/mem/f; echo ready; while true; do sleep 0.2; done"]
    volumeMounts:
    - {name: mem, mountPath: /mem}
    - {name: data, mountPath: /sub, subPath: x}
YAML
  wait_for 30 phase_is keep Running && wait_for 10 file_has "$MNT/pods/keep/logs" ready || return 1
  local run
  run=$(run_dir)
  podfs_kill9 && podfs_start --backoff-scale 0.1 --node-name "$NODE" &&
  wait_for 20 phase_is keep Running || return 1
  [ "$(cat "$run"/volumes/*/mem/f)" = kept ] &&
  [ "$(grep -c " $run/volumes/.*/mem tmpfs " /proc/self/mounts)" = 1 ] &&
  [ "$(grep -c " $run/subpaths/" /proc/self/mounts)" = 1 ] || return 1
  rm -r "$MNT/pods/keep" &&
  ! grep -q " $run/volumes/\| $run/subpaths/" /proc/self/mounts
}
check "podfs killed and restarted: the pod's tmpfs keeps its files; delete removes every mount" t_podfs_restart

t_nothing_left() {
  local run
  run=$(run_dir)
  no_pods && ! grep -q " $STATE\| $run/volumes/\| $run/subpaths/" /proc/self/mounts &&
  [ -z "$(ls "$STATE/pods" 2>/dev/null)" ] && [ -z "$(find "$run/volumes" "$run/subpaths" -mindepth 1 2>/dev/null)" ]
}
check "no pods, no volume or subPath mounts, no pod state left" t_nothing_left

finish
