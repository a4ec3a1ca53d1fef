#!/usr/bin/env bash
# t0010-mount: the mount runs real pods under runc and conmon (issue 3):
# creating pods with cp, tee, echo and heredocs; refused manifests leave
# the running pod alone; restart policies; logs; inotify; two containers
# sharing the network; graceful deletion; podfs killed and restarted.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
images_import || fail_all "image import failed"
podfs_start --backoff-scale 0.1 || fail_all

sleeper() { sleeper_yaml "$1" "started $1"; } # sleeper NAME: prints "started NAME"

t_mount_shows() {
  mount | grep -q "on $MNT type fuse.podfs" &&
  [ -d "$MNT/pods" ] && [ -f "$MNT/ps" ] && file_has "$MNT/node" "allocatable:" &&
  head -n1 "$MNT/ps" | grep -q "NAME *READY *STATUS *RESTARTS *AGE"
}
check "mount is fuse.podfs with pods/, ps and node" t_mount_shows

t_create_cp() {
  mkdir "$MNT/pods/bycp" && sleeper bycp >"$T/bycp.yaml" &&
  cp "$T/bycp.yaml" "$MNT/pods/bycp/spec.yaml" &&
  wait_for 20 phase_is bycp Running &&
  wait_for 10 file_has "$MNT/pods/bycp/logs" "started bycp" &&
  cmp "$T/bycp.yaml" "$MNT/pods/bycp/spec.yaml"
}
check "cp a manifest: Running, logs, spec.yaml reads back byte for byte" t_create_cp

t_create_tee() {
  mkdir "$MNT/pods/bytee" && sleeper bytee | tee "$MNT/pods/bytee/spec.yaml" >/dev/null &&
  wait_for 20 phase_is bytee Running
}
check "tee a manifest" t_create_tee

t_create_echo() {
  mkdir "$MNT/pods/byecho" &&
  echo '{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"c","image":"busybox","command":["sleep","3600"]}]}}' >"$MNT/pods/byecho/spec.yaml" &&
  wait_for 20 phase_is byecho Running
}
check "echo a JSON manifest" t_create_echo

t_create_heredoc() {
  mkdir "$MNT/pods/byheredoc" &&
  cat >"$MNT/pods/byheredoc/spec.yaml" <<'YAML'
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: web
    image: arisu1000/simple-container-app:latest
YAML
  wait_for 20 phase_is byheredoc Running &&
  ! grep -q FailedApply "$MNT/pods/byheredoc/events"
}
check "heredoc a manifest (no spurious refusal from the shell's dup2+close)" t_create_heredoc

t_refused() {
  local before after
  before=$(cid bycp)
  printf 'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: app\n    image: busybox\n    imagePullPolcy: Always\n' >"$T/bad.yaml"
  if cp "$T/bad.yaml" "$MNT/pods/bycp/spec.yaml" 2>"$T/cperr"; then echo "cp succeeded"; return 1; fi
  grep -q "Invalid argument" "$T/cperr" || { cat "$T/cperr"; return 1; }
  after=$(cid bycp)
  [ "$before" = "$after" ] && phase_is bycp Running &&
  cmp "$T/bycp.yaml" "$MNT/pods/bycp/spec.yaml" &&
  grep -q "Warning FailedApply.*7:5: spec.containers\[0\].imagePullPolcy: unknown field; did you mean imagePullPolicy?" "$MNT/pods/bycp/events" &&
  grep -q "imagePullPolcy: unknown field; did you mean imagePullPolicy?" "$MNT/pods/bycp/status"
}
check "a refused manifest: cp fails with EINVAL, pod untouched, event and status say why" t_refused

t_bad_name() {
  ! mkdir "$MNT/pods/Web_1" 2>/dev/null && [ ! -e "$MNT/pods/Web_1" ] &&
  ! mkdir "$MNT/pods/bycp" 2>/dev/null
}
check "mkdir refuses names that are not DNS-1123 labels, and duplicates" t_bad_name

# restartPolicy table: the container exits 1 the first time, 0 after
flaky() { # flaky NAME POLICY
  mkdir -p "$T/data-$1"
  cat <<YAML
apiVersion: v1
kind: Pod
spec:
  restartPolicy: $2
  volumes:
  - name: data
    hostPath:
      path: $T/data-$1
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "if [ -f /data/ran ]; then echo second; exit 0; fi; touch /data/ran; echo first; exit 1"]
    volumeMounts:
    - name: data
      mountPath: /data
YAML
}

t_policy_never() {
  mkdir "$MNT/pods/never" && flaky never Never >"$MNT/pods/never/spec.yaml" &&
  wait_for 20 phase_is never Failed && [ "$(restarts never)" = 0 ] &&
  [ "$(c0 never '["state"]["terminated"]["exitCode"]')" = 1 ] &&
  [ "$(c0 never '["state"]["terminated"]["reason"]')" = Error ] &&
  grep -q "never  *0/1  *Error  *0" "$MNT/ps"
}
check "restartPolicy Never: exit 1 -> Failed, 0 restarts, reason Error" t_policy_never

t_policy_onfailure() {
  mkdir "$MNT/pods/onfailure" && flaky onfailure OnFailure >"$MNT/pods/onfailure/spec.yaml" &&
  wait_for 30 phase_is onfailure Succeeded && [ "$(restarts onfailure)" = 1 ] &&
  [ "$(c0 onfailure '["lastState"]["terminated"]["exitCode"]')" = 1 ] &&
  file_has "$MNT/pods/onfailure/containers/app/previous.log" first &&
  file_has "$MNT/pods/onfailure/logs" second &&
  grep -q "onfailure  *0/1  *Completed  *1 (" "$MNT/ps"
}
check "restartPolicy OnFailure: exit 1 then 0 -> Succeeded, 1 restart, previous.log" t_policy_onfailure

t_policy_always() {
  mkdir "$MNT/pods/always" && flaky always Always >"$MNT/pods/always/spec.yaml" &&
  wait_for 30 st_cmp always 'd["containerStatuses"][0]["restartCount"]' -ge 2 &&
  phase_is always Running
}
check "restartPolicy Always: exit 1 then 0 -> restarted again, phase Running" t_policy_always

t_crashloop() {
  wait_for 20 grep -q "CrashLoopBackOff" "$MNT/pods/always/status" &&
  grep -q "back-off [0-9]*s restarting failed container=app pod=always_default(" "$MNT/pods/always/status" &&
  grep -q "Warning BackOff app: Back-off restarting failed container app in pod always" "$MNT/pods/always/events"
}
check "CrashLoopBackOff waiting reason, message and BackOff event" t_crashloop

t_many_lines() {
  pod lines <<'YAML'
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: busybox
    command: ["seq", "1", "100000"]
YAML
  wait_for 60 phase_is lines Succeeded &&
  wait_for 10 bash -c "[ \$(wc -l < '$MNT/pods/lines/logs') -eq 100000 ]" &&
  seq 1 100000 | cmp - "$MNT/pods/lines/logs"
}
check "100,000 lines: every line in logs, in order" t_many_lines

t_inotify_phase() {
  mkdir "$MNT/pods/watched"
  inotifywait -q -e modify "$MNT/pods/watched/phase" >"$T/inw" 2>&1 &
  local w=$!
  sleep 0.5
  local t0; t0=$(now_ms)
  sleeper watched >"$MNT/pods/watched/spec.yaml"
  wait "$w"
  local t1; t1=$(now_ms)
  echo "woke after $((t1 - t0)) ms"
  grep -q MODIFY "$T/inw" && [ $((t1 - t0)) -lt 1000 ]
}
check "inotifywait on phase wakes within a second of a change" t_inotify_phase

t_inotify_pods_dir() {
  inotifywait -q -e create "$MNT/pods" >"$T/inw2" 2>&1 &
  local w=$!
  sleep 0.3
  mkdir "$MNT/pods/newdir"
  wait "$w"
  grep -q "CREATE,ISDIR newdir" "$T/inw2" && rmdir "$MNT/pods/newdir"
}
check "IN_CREATE on pods/ when a pod appears" t_inotify_pods_dir

t_two_containers() {
  pod duo <<'YAML'
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: server
    image: arisu1000/simple-container-app:latest
  - name: client
    image: busybox
    command: ["sh", "-c", "until wget -qO- http://127.0.0.1:8080/; do sleep 0.2; done; echo; echo client-done; sleep 3600"]
YAML
  wait_for 30 file_has "$MNT/pods/duo/containers/client/logs" client-done &&
  file_has "$MNT/pods/duo/containers/client/logs" "Hello from simple-container-app" &&
  [ "$(hostname_in duo)" = duo ]
}
hostname_in() { cat "$MNT/pods/$1/containers/client/env" | sed -n 's/^HOSTNAME=//p'; }
check "two containers share the network: client reaches server on 127.0.0.1:8080" t_two_containers

t_env_file() {
  file_has "$MNT/pods/bycp/env" "PATH=" && file_has "$MNT/pods/bycp/env" "HOSTNAME=bycp"
}
check "env lists the environment the container got" t_env_file

t_grace() {
  pod stubborn <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"]
YAML
  wait_for 20 phase_is stubborn Running || return 1
  local t0 t1; t0=$(now_ms)
  rm -r "$MNT/pods/stubborn" || return 1
  t1=$(now_ms)
  echo "rm -r took $((t1 - t0)) ms"
  # the kubelet extends a grace period under 2 s to 2 s
  [ $((t1 - t0)) -ge 1800 ] && [ $((t1 - t0)) -lt 4500 ] && [ ! -e "$MNT/pods/stubborn" ]
}
check "rm -r of a pod ignoring SIGTERM takes the grace period (1 s -> kubelet's 2 s minimum)" t_grace

t_quick_stop() {
  local t0 t1; t0=$(now_ms)
  rm -r "$MNT/pods/bytee" || return 1
  t1=$(now_ms)
  echo "rm -r took $((t1 - t0)) ms"
  [ $((t1 - t0)) -lt 1800 ] && [ ! -e "$MNT/pods/bytee" ] && ! grep -q "^bytee " "$MNT/ps"
}
check "rm -r of a pod that exits on SIGTERM returns as soon as it is gone" t_quick_stop


t_missing_image() {
  # a registry on a loopback port nothing listens on: the pull fails at
  # once, and no traffic (not even a DNS query) leaves the machine
  pod noimage <<'YAML'
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: app
    image: 127.0.0.1:1/arisu1000/simple-container-app:lastest
YAML
  wait_for 20 grep -q "reason: ErrImagePull" "$MNT/pods/noimage/status" &&
  grep -F "127.0.0.1:1/arisu1000/simple-container-app:lastest" "$MNT/pods/noimage/status" | grep -q "cannot reach 127.0.0.1:1" &&
  phase_is noimage Pending && grep -Eq "noimage  *0/1  *(ErrImagePull|ImagePullBackOff)" "$MNT/ps" &&
  rm -r "$MNT/pods/noimage"
}
check "an image not in the store: Waiting ErrImagePull saying so, phase Pending" t_missing_image

t_tail_follow() {
  pod ticker <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.3; done"]
YAML
  wait_for 20 phase_is ticker Running || return 1
  local before; before=$(wc -l <"$MNT/pods/ticker/logs")
  timeout 4 stdbuf -o0 tail -f "$MNT/pods/ticker/logs" >"$T/tail.out" 2>&1
  local last; last=$(tail -n1 "$T/tail.out" | awk '{print $2}')
  echo "$before lines when tail started; tail -f saw up to tick $last"
  # a tick every 0.3 s: following for 4 s must bring at least 8 new ones
  [ "${last:-0}" -ge $((before + 8)) ] && grep -q "tick 1$" "$MNT/pods/ticker/logs"
}
check "tail -f follows logs as they grow" t_tail_follow

t_inotify_delete() {
  inotifywait -q -e delete "$MNT/pods" >"$T/inw3" 2>&1 &
  local w=$!
  sleep 0.3
  rm -r "$MNT/pods/ticker"
  wait "$w"
  grep -q "DELETE,ISDIR ticker" "$T/inw3"
}
check "IN_DELETE on pods/ when a pod is removed" t_inotify_delete

t_seed_pod() {
  mkdir "$MNT/pods/kubernetes-simple-pod" &&
  cp "$TOP/examples/seed-pod.yaml" "$MNT/pods/kubernetes-simple-pod/spec.yaml" &&
  wait_for 30 file_has "$MNT/pods/kubernetes-simple-pod/containers/kubernetes-simple-pod2/logs" "Hello from simple-container-app" &&
  echo "page fetched" && cat "$MNT/ps" && cat "$MNT/pods/kubernetes-simple-pod/events" &&
  phase_is kubernetes-simple-pod Running &&
  grep -q "kubernetes-simple-pod  *2/2  *Running" "$MNT/ps" &&
  st kubernetes-simple-pod '[c["type"]+"="+c["status"] for c in d["conditions"]]' | grep -q "'Ready=True'" &&
  rm -r "$MNT/pods/kubernetes-simple-pod"
}
check "the seed's pod (examples/seed-pod.yaml): 2/2 Running, Ready, serving" t_seed_pod

t_init_example() {
  mkdir "$MNT/pods/initdemo" &&
  sed 's/name: kubernetes-simple-pod$/name: initdemo/' "$TOP/examples/init-containers.yaml" >"$MNT/pods/initdemo/spec.yaml" &&
  wait_for 10 grep -q "initdemo  *0/1  *Init:0/2" "$MNT/ps" &&
  grep -q "containers with incomplete status: \[init-myservice init-mydb\]" "$MNT/pods/initdemo/status" &&
  grep -q "reason: PodInitializing" "$MNT/pods/initdemo/status" && phase_is initdemo Pending &&
  wait_for 10 grep -q "initdemo  *0/1  *Init:1/2" "$MNT/ps" &&
  wait_for 20 phase_is initdemo Running &&
  file_has "$MNT/pods/initdemo/containers/init-myservice/logs" helloworld01 &&
  file_has "$MNT/pods/initdemo/containers/init-mydb/logs" helloworld02 &&
  rm -r "$MNT/pods/initdemo"
}
check "init containers run in order before the app (Init:0/2, Init:1/2, Running)" t_init_example

t_oom() {
  pod oom <<'YAML'
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived"]
    resources:
      limits:
        memory: 32Mi
YAML
  wait_for 30 phase_is oom Failed &&
  [ "$(c0 oom '["state"]["terminated"]["reason"]')" = OOMKilled ] &&
  [ "$(c0 oom '["state"]["terminated"]["exitCode"]')" = 137 ] &&
  ! file_has "$MNT/pods/oom/logs" survived && rm -r "$MNT/pods/oom"
}
check "a container over its memory limit: Terminated OOMKilled, exit code 137" t_oom

t_restart_podfs() {
  local cid_before restarts_before
  cid_before=$(cid bycp)
  restarts_before=$(restarts onfailure)
  podfs_kill9
  ! mountpoint -q "$MNT" || return 1
  podfs_start --backoff-scale 0.1 || return 1
  wait_for 10 phase_is bycp Running &&
  [ "$(cid bycp)" = "$cid_before" ] &&
  [ "$(restarts onfailure)" = "$restarts_before" ] && phase_is onfailure Succeeded &&
  phase_is never Failed &&
  cmp "$T/bycp.yaml" "$MNT/pods/bycp/spec.yaml" &&
  file_has "$MNT/pods/bycp/logs" "started bycp" &&
  [ "$(grep -c "started bycp" "$MNT/pods/bycp/logs")" = 1 ]
}
check "podfs killed with SIGKILL and started again: same pods, still running, same logs" t_restart_podfs

t_rm_all() {
  for p in "$MNT"/pods/*/; do rm -r "$p" || return 1; done
  no_pods && [ -z "$(ls "$STATE/containers")" ] && [ -z "$(runc_ids)" ] &&
  [ -z "$(ls "$(run_dir)/pods")" ] && ! grep -q "$(run_dir)" /proc/mounts
}
check "rm -r every pod: no containers left" t_rm_all

t_run_dir_gone() {
  local run; run=$(run_dir)
  [ -d "$run" ] || { echo "no run dir while mounted"; return 1; }
  # (the podfs running now was started in a check's subshell: its lock
  # on the state dir says when it is gone)
  fusermount3 -u "$MNT" && wait_for 10 flock -n "$STATE/lock" true &&
  [ ! -e "$run" ] || { ls -R "$run"; return 1; }
}
check "podfs leaving with no pods removes its run dir" t_run_dir_gone
mountpoint -q "$MNT" || podfs_start
t_run_dir_again() { [ -d "$(run_dir)/runc" ] && [ -d "$(run_dir)/exits" ] && [ -d "$MNT/pods" ]; }
check "the next podfs on the state dir makes it again" t_run_dir_again

finish
