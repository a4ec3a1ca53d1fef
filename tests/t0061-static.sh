#!/usr/bin/env bash
# t0061-static: static pods from --manifest-dir, as the kubelet's
# --pod-manifest-path (issue 7): pickup at mount and through inotify,
# NAME-NODENAME, a changed file replaces the pod, identical content changes
# nothing, a removed file deletes it, invalid files are skipped (and said
# so) without touching other pods, editor leftovers are ignored, vim's and
# sed -i's saves work, spec.yaml is read-only (EROFS) and rmdir refused,
# podfs restarts reconcile with the directory, the 20 s rescan.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
images_import || fail_all "image import failed"

M=$T/manifests
mkdir -p "$M"
NODE=node1
start() { podfs_start --backoff-scale 0.1 --node-name "$NODE" --manifest-dir "$M" "$@"; }

# static pods are deleted by removing their files (rmdir is refused), so
# the cleanup empties the directory first
static_cleanup() {
  if [ -n "$PODFS_PID" ] && kill -0 "$PODFS_PID" 2>/dev/null && mountpoint -q "$MNT"; then
    rm -f "$M"/* "$T"/m2/* 2>/dev/null
    wait_for 60 no_pods
  fi
  cleanup
}
trap static_cleanup EXIT

# manifest NAME [WORD]: a sleeper printing "hello WORD" (default one)
manifest() { sleeper_yaml "$1" "hello ${2:-one}"; }
uid_of() { cat "$STATE/pods/$1/state.json" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])'; }
gone() { [ ! -e "$MNT/pods/$1" ]; }

manifest web >"$M/web.yaml"
manifest db >"$M/db.yaml"
start || fail_all

t_pickup_at_mount() {
  [ -d "$MNT/pods/web-$NODE" ] && [ -d "$MNT/pods/db-$NODE" ] &&
  wait_for 30 phase_is "web-$NODE" Running && wait_for 30 phase_is "db-$NODE" Running &&
  wait_for 10 file_has "$MNT/pods/web-$NODE/logs" "hello one" &&
  cmp "$M/web.yaml" "$MNT/pods/web-$NODE/spec.yaml" &&
  [ "$(ls "$MNT/pods" | wc -l)" = 2 ]
}
check "files present at mount run as NAME-NODENAME pods, spec.yaml is the file" t_pickup_at_mount

t_status_source() {
  local s=$MNT/pods/web-$NODE/status
  grep -qx "source: $M/web.yaml" "$s" &&
  grep -q "kubernetes.io/config.source: file" "$s" &&
  grep -Eq 'kubernetes.io/config.hash: "?[0-9a-f]{32}"?$' "$s" &&
  grep -Eq 'kubernetes.io/config.mirror: "?[0-9a-f]{32}"?$' "$s" &&
  [ "$(json_get "$MNT/pods/web-$NODE/status.json" 'd["annotations"]["kubernetes.io/config.source"]')" = file ] &&
  grep -q "manifestDir: \"$M\"" "$MNT/node" && grep -q "^  pods: 2" "$MNT/node"
}
check "status says where a static pod comes from (source, config.* annotations), node lists the dir" t_status_source

t_inotify_add() {
  local t0; t0=$(now_ms)
  manifest cache >"$M/cache.yaml"
  wait_for 5 test -d "$MNT/pods/cache-$NODE" || return 1
  echo "picked up in $(( $(now_ms) - t0 )) ms"
  wait_for 30 phase_is "cache-$NODE" Running &&
  # a pod appearing raises IN_CREATE on pods/ like any other
  { inotifywait -q -t 10 -e create "$MNT/pods" >"$T/inw" 2>&1 & } &&
  sleep 0.5 && manifest cache2 >"$M/cache2.yaml" && wait && grep -q "cache2-$NODE" "$T/inw"
}
check "a new file is picked up at once (inotify), IN_CREATE on pods/" t_inotify_add

t_identical_noop() {
  local before uid
  before=$(cid "web-$NODE"); uid=$(uid_of "web-$NODE")
  [ -n "$before" ] || return 1
  cp "$M/web.yaml" "$T/same.yaml" && cat "$T/same.yaml" >"$M/web.yaml" && touch "$M/web.yaml" &&
  sleep 2 &&
  [ "$(cid "web-$NODE")" = "$before" ] && [ "$(uid_of "web-$NODE")" = "$uid" ] &&
  ! grep -q SourceChanged "$MNT/pods/web-$NODE/events"
}
check "rewriting identical content changes nothing (same uid, same container)" t_identical_noop

t_change_replaces() {
  local before uid
  before=$(cid "web-$NODE"); uid=$(uid_of "web-$NODE")
  manifest web two >"$M/web.yaml"
  wait_for 20 file_has "$MNT/pods/web-$NODE/logs" "hello two" &&
  wait_for 20 phase_is "web-$NODE" Running &&
  [ "$(cid "web-$NODE")" != "$before" ] && [ "$(uid_of "web-$NODE")" != "$uid" ] &&
  grep -q "Normal  SourceChanged $M/web.yaml changed; the pod is replaced" "$MNT/pods/web-$NODE/events" &&
  cmp "$M/web.yaml" "$MNT/pods/web-$NODE/spec.yaml"
}
check "a changed file replaces the pod (new uid, new container, new spec.yaml)" t_change_replaces

t_removal_deletes() {
  local c; c=$(cid "cache2-$NODE"); c=${c#*://}
  rm "$M/cache2.yaml"
  wait_for 20 gone "cache2-$NODE" &&
  [ ! -d "$STATE/pods/cache2-$NODE" ] && [ ! -d "$STATE/containers/$c" ] &&
  ! runc_ids | grep -q "$c" &&
  grep -q "static pod cache2-$NODE: its manifest $M/cache2.yaml is gone; deleting it" "$T/podfs.log"
}
check "a removed file deletes the pod (containers, state gone)" t_removal_deletes

t_invalid_skipped() {
  local w d
  w=$(cid "web-$NODE"); d=$(cid "db-$NODE")
  printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: app\n    image: busybox\n    imagePullPolcy: Always\n' >"$M/bad.yaml"
  printf 'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: app\n    image: busybox\n' >"$M/noname.yaml"
  printf 'kind: Pod\n  : [\n' >"$M/garbage.json"
  wait_for 10 grep -q "file: \"bad.yaml\"" "$MNT/node" &&
  wait_for 10 grep -q "file: \"noname.yaml\"" "$MNT/node" &&
  wait_for 10 grep -q "file: \"garbage.json\"" "$MNT/node" &&
  grep -q "imagePullPolcy: unknown field; did you mean imagePullPolicy?" "$MNT/node" &&
  grep -q "invalid pod: name is needed for the pod" "$MNT/node" &&
  grep -q "could not process manifest file $M/bad.yaml, skipped" "$T/podfs.log" &&
  grep -q "$M/bad.yaml:9:5: spec.containers\[0\].imagePullPolcy: unknown field" "$T/podfs.log" &&
  [ ! -e "$MNT/pods/bad-$NODE" ] && [ "$(ls "$MNT/pods" | wc -l)" = 3 ] &&
  [ "$(cid "web-$NODE")" = "$w" ] && [ "$(cid "db-$NODE")" = "$d" ] &&
  # said once, not at every rescan
  [ "$(grep -c "could not process manifest file $M/bad.yaml" "$T/podfs.log")" = 1 ] &&
  rm "$M/bad.yaml" "$M/noname.yaml" "$M/garbage.json" &&
  wait_for 10 bash -c "! grep -q 'bad.yaml' '$MNT/node'" && grep -q "skipped: \[\]" "$MNT/node"
}
check "invalid files are skipped and reported (node file, podfs log); other pods untouched" t_invalid_skipped

t_invalid_change_keeps() {
  local d; d=$(cid "db-$NODE")
  cp "$M/db.yaml" "$T/db.good"
  printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: db\nspec:\n  containers:\n  - name: app\n    image: busybox\n    comand: [sh]\n' >"$M/db.yaml"
  wait_for 10 grep -q "Warning FailedApply manifest $M/db.yaml refused; the pod keeps its last valid manifest" "$MNT/pods/db-$NODE/events" &&
  grep -q "lastApplyError:" "$MNT/pods/db-$NODE/status" &&
  sleep 1.5 && [ "$(cid "db-$NODE")" = "$d" ] && phase_is "db-$NODE" Running &&
  cmp "$T/db.good" "$MNT/pods/db-$NODE/spec.yaml" &&
  cp "$T/db.good" "$M/db.yaml" &&
  wait_for 10 bash -c "! grep -q lastApplyError '$MNT/pods/db-$NODE/status'" &&
  [ "$(cid "db-$NODE")" = "$d" ]
}
check "a file turned invalid leaves its pod running the last valid manifest (FailedApply)" t_invalid_change_keeps

t_leftovers_ignored() {
  local w; w=$(cid "web-$NODE")
  local f
  for f in 'web.yaml~' '.web.yaml.swp' 'web.yaml.bak' 'web.yaml.tmp' '#web.yaml#' 'web.yaml.orig' 'web.yaml.dpkg-old' '4913'; do
    manifest leftover >"$M/$f"
  done
  # a leftover defining the *same* pod must not block or change it either
  manifest web three >"$M/web.yaml.swp"
  sleep 2.5
  [ ! -e "$MNT/pods/leftover-$NODE" ] && [ "$(cid "web-$NODE")" = "$w" ] &&
  ! grep -q "leftover\|web.yaml.swp" "$MNT/node" &&
  rm -f "$M"/*~ "$M"/.*.swp "$M"/*.bak "$M"/*.tmp "$M"/'#web.yaml#' "$M"/*.orig "$M"/*.dpkg-old "$M"/4913 "$M"/*.swp
}
check "editor leftovers (~ .swp .bak .tmp #..# .orig .dpkg-old 4913) never become or block pods" t_leftovers_ignored

t_vim_save() {
  local w; w=$(cid "web-$NODE")
  ( cd "$M" && vim -N -u NONE -i NONE -es -c 'set backup writebackup backupcopy=auto backupskip=' \
      -c '%s/hello two/hello vim/' -c 'wq' web.yaml ) </dev/null || return 1
  [ -e "$M/web.yaml~" ] || { echo "vim left no backup (test precondition)"; return 1; }
  wait_for 20 file_has "$MNT/pods/web-$NODE/logs" "hello vim" &&
  [ "$(cid "web-$NODE")" != "$w" ] && cmp "$M/web.yaml" "$MNT/pods/web-$NODE/spec.yaml" &&
  # replaced, never deleted on the way
  ! grep -q "SourceRemoved" "$MNT/pods/web-$NODE/events" &&
  ! grep -q "web-$NODE: its manifest .* is gone" "$T/podfs.log" &&
  rm -f "$M/web.yaml~"
}
check "vim saves by renaming to web.yaml~ and writing anew: the pod is replaced, not deleted" t_vim_save

t_sed_i() {
  local w; w=$(cid "web-$NODE")
  sed -i 's/hello vim/hello sed/' "$M/web.yaml" &&
  wait_for 20 file_has "$MNT/pods/web-$NODE/logs" "hello sed" &&
  [ "$(cid "web-$NODE")" != "$w" ] && ! grep -q "SourceRemoved" "$MNT/pods/web-$NODE/events" &&
  [ "$(ls "$MNT/pods" | wc -l)" = 3 ]
}
check "sed -i (temporary file renamed over the manifest) replaces the pod" t_sed_i

t_readonly() {
  local sp=$MNT/pods/web-$NODE/spec.yaml w
  w=$(cid "web-$NODE")
  [ "$(stat -c %a "$sp")" = 444 ] || { stat -c %a "$sp"; return 1; }
  if ( echo "x: y" >"$sp" ) 2>"$T/err"; then echo "write succeeded"; return 1; fi
  grep -q "Read-only file system" "$T/err" || { cat "$T/err"; return 1; }
  if cp "$M/db.yaml" "$sp" 2>"$T/err"; then echo "cp succeeded"; return 1; fi
  grep -q "Read-only file system" "$T/err" &&
  grep -q "Warning FailedApply static pod: spec.yaml is read-only; edit $M/web.yaml instead" "$MNT/pods/web-$NODE/events" &&
  if rmdir "$MNT/pods/web-$NODE" 2>"$T/err"; then echo "rmdir succeeded"; return 1; fi
  grep -q "Operation not permitted" "$T/err" &&
  grep -q "Warning FailedDelete static pod: remove its manifest $M/web.yaml to delete it" "$MNT/pods/web-$NODE/events" &&
  cmp "$M/web.yaml" "$sp" && [ "$(cid "web-$NODE")" = "$w" ] && phase_is "web-$NODE" Running &&
  # an ordinary pod next to them still writes
  mkdir "$MNT/pods/plain" && manifest plain >"$MNT/pods/plain/spec.yaml" &&
  [ "$(stat -c %a "$MNT/pods/plain/spec.yaml")" = 644 ] && wait_for 20 phase_is plain Running
}
check "spec.yaml of a static pod is 0444 and EROFS (events say which file to edit); rmdir EPERM" t_readonly

t_name_conflict() {
  # a file whose pod name is taken by a pod made in the tree is skipped
  # (there metadata.name must equal the directory, so it is left out)
  mkdir "$MNT/pods/taken-$NODE" &&
  manifest taken | sed '/^metadata:/,/^  name:/d' >"$MNT/pods/taken-$NODE/spec.yaml" &&
  manifest taken >"$M/taken.yaml" &&
  wait_for 10 grep -q "a pod named taken-$NODE exists and was not made from a manifest file" "$MNT/node" &&
  ! grep -q "^source:" "$MNT/pods/taken-$NODE/status" &&
  rmdir "$MNT/pods/taken-$NODE" &&
  # once the name is free, the file gets its pod (at the latest on the rescan)
  wait_for 30 grep -q "^source: $M/taken.yaml" "$MNT/pods/taken-$NODE/status"
}
check "a file whose NAME-NODENAME is a pod made in the tree waits until the name is free" t_name_conflict

W_BEFORE=$(cid "web-$NODE" 2>/dev/null); D_BEFORE=$(cid "db-$NODE" 2>/dev/null)
# (podfs is killed and started here, between checks: a check runs in a
# subshell, and PODFS_PID must stay the mount's process)
podfs_kill9
rm "$M/cache.yaml"                    # removed while podfs was down
manifest db changed >"$M/db.yaml"     # changed while down
manifest late >"$M/late.yaml"         # added while down
start
t_restart_reconcile() {
  mountpoint -q "$MNT" || return 1
  [ ! -e "$MNT/pods/cache-$NODE" ] || wait_for 20 gone "cache-$NODE" || return 1
  [ -d "$MNT/pods/late-$NODE" ] && [ "$(cid "web-$NODE")" = "$W_BEFORE" ] &&
  wait_for 20 file_has "$MNT/pods/db-$NODE/logs" "hello changed" && [ "$(cid "db-$NODE")" != "$D_BEFORE" ] &&
  wait_for 30 phase_is "late-$NODE" Running && phase_is "web-$NODE" Running &&
  [ -z "$(ls "$STATE/pods" | grep '^cache-')" ]
}
check "after podfs restarts: removed file -> pod deleted, changed -> replaced, new -> created, same -> untouched" t_restart_reconcile

# the directory becomes a symlink, switched later to another directory: no
# inotify event on the watched one, so only the periodic rescan can see it
mkdir -p "$T/m2"
cp "$M"/*.yaml "$T/m2/"; manifest rescanned >"$T/m2/rescanned.yaml"
podfs_kill9
mv "$M" "$T/m1" && ln -s "$T/m1" "$M"
start
t_rescan() {
  wait_for 20 phase_is "web-$NODE" Running || return 1
  local t0; t0=$(now_ms)
  ln -sfn "$T/m2" "$T/m.new" && mv -T "$T/m.new" "$M"
  wait_for 30 test -d "$MNT/pods/rescanned-$NODE" || return 1
  echo "picked up by the rescan after $(( $(now_ms) - t0 )) ms"
  # and the new directory is watched from then on
  manifest watched >"$M/watched.yaml"
  wait_for 5 test -d "$MNT/pods/watched-$NODE"
}
check "the 20 s rescan finds what inotify cannot see (manifest dir symlink switched)" t_rescan

# a pod whose emptyDir outgrows its sizeLimit (writes 2 MiB into 1Mi)
full_yaml() {
  cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{name: cache, emptyDir: {sizeLimit: 1Mi}}]
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "dd if=/dev/zero of=/cache/big bs=1024 count=2048 2>/dev/null; echo wrote; sleep 3600"]
    volumeMounts: [{name: cache, mountPath: /cache}]
YAML
}
t_static_not_evicted() {
  full_yaml full >"$M/full.yaml" && mkdir "$MNT/pods/treefull" && full_yaml treefull >"$MNT/pods/treefull/spec.yaml" &&
  wait_for 30 file_has "$MNT/pods/full-$NODE/logs" wrote && wait_for 30 file_has "$MNT/pods/treefull/logs" wrote &&
  sleep 11 &&
  # the kubelet's eviction manager skips critical pods, static pods among them
  phase_is treefull Failed && grep -q "Warning Evicted" "$MNT/pods/treefull/events" &&
  phase_is "full-$NODE" Running && ! grep -q Evicted "$MNT/pods/full-$NODE/events" &&
  rm -r "$MNT/pods/treefull" && rm "$M/full.yaml" && wait_for 30 gone "full-$NODE"
}
check "a static pod over its emptyDir sizeLimit is not evicted (critical); the same pod in the tree is" t_static_not_evicted

t_cleanup_by_files() {
  { [ ! -e "$MNT/pods/plain" ] || rm -r "$MNT/pods/plain"; } && rm -f "$M"/* &&
  wait_for 60 no_pods &&
  [ -z "$(ls "$STATE/containers")" ] && [ -z "$(runc_ids)" ] && ! grep -q "$(run_dir)" /proc/mounts
}
check "removing every file deletes every static pod: no containers or mounts left" t_cleanup_by_files

manifest orphan >"$M/orphan.yaml"
wait_for 10 test -d "$MNT/pods/orphan-$NODE" && wait_for 30 phase_is "orphan-$NODE" Running
podfs_kill9
podfs_start --backoff-scale 0.1 --node-name "$NODE"
t_no_manifest_dir() {
  wait_for 30 gone "orphan-$NODE" &&
  grep -q "static pod orphan-$NODE: podfs runs without --manifest-dir, so it has no source; deleting it" "$T/podfs.log" &&
  [ -z "$(runc_ids)" ] && ! grep -q "staticPods:" "$MNT/node"
}
check "started without --manifest-dir, podfs deletes the static pods of an earlier run" t_no_manifest_dir

t_bad_dir() {
  ! "$PODFS" -f --state-dir "$T/state2" --manifest-dir "$T/nonexistent" "$T/mnt2" 2>"$T/err" &&
  grep -q "manifest dir $T/nonexistent: No such file or directory" "$T/err"
}
mkdir -p "$T/mnt2"
check "a missing --manifest-dir is refused with a message" t_bad_dir

finish
