#!/usr/bin/env bash
# t0025-update: a new manifest that changes only containers' images updates
# the pod in place, as the kubelet does (its container hash changed): the
# running containers with a new image are killed and started again whatever
# the restart policy, the others keep running, the pod keeps its sandbox; a
# manifest that means the same (comments, layout) restarts nothing; any
# other change still replaces the pod. Also after a podfs restart.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
images_import || fail_all "image import failed"
# a second name for busybox: a new image reference, the same content
"$PODFS" --state-dir "$STATE" image import "$IMAGES/busybox" docker.io/library/busybox:v2 >/dev/null ||
  fail_all "image import failed"
podfs_start --backoff-scale 0.1 || fail_all

cst() { st "$1" "[c for c in d[\"containerStatuses\"] if c[\"name\"]==\"$2\"][0]$3"; }
running_again() { # POD C RESTARTS: C running with that restart count
  [ "$(cst "$1" "$2" '["restartCount"]' 2>/dev/null)" = "$3" ] &&
    [ -n "$(cst "$1" "$2" '["state"].get("running")' 2>/dev/null | grep -v None)" ]
}
two_yaml() { # two_yaml IMAGE_A IMAGE_B: a pod of two sleeping containers
  cat <<YAML
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: a
    image: $1
    command: ["sh", "-c", "trap 'exit 0' TERM; echo a up; while true; do sleep 0.2; done"]
  - name: b
    image: $2
    command: ["sh", "-c", "trap 'exit 0' TERM; echo b up; while true; do sleep 0.2; done"]
YAML
}
one_yaml() { # one_yaml POLICY IMAGE COMMAND: a pod of one container "c"
  printf 'apiVersion: v1\nkind: Pod\nspec:\n  restartPolicy: %s\n  terminationGracePeriodSeconds: 2\n' "$1"
  printf '  containers:\n  - name: c\n    image: %s\n    command: %s\n' "$2" "$3"
}

t_image_in_place() {
  two_yaml busybox busybox | pod upd
  wait_for 30 running_again upd a 0 && wait_for 30 running_again upd b 0 || return 1
  local a0 b0; a0=$(cst upd a '["containerID"]'); b0=$(cst upd b '["containerID"]')
  two_yaml busybox docker.io/library/busybox:v2 >"$MNT/pods/upd/spec.yaml" || return 1
  wait_for 30 running_again upd b 1 || { cat "$MNT/pods/upd/events"; return 1; }
  # b is a new instance of the new image; a never stopped; one pod all along
  [ "$(cst upd b '["containerID"]')" != "$b0" ] &&
  [ "$(cst upd b '["image"]')" = docker.io/library/busybox:v2 ] &&
  [ "$(cst upd a '["containerID"]')" = "$a0" ] &&
  [ "$(cst upd a '["restartCount"]')" = 0 ] &&
  [ "$(cst upd b '["lastState"]["terminated"]["exitCode"]')" = 0 ] &&
  grep -q "Killing b: Container b definition changed, will be restarted" "$MNT/pods/upd/events" &&
  ! grep -q Replaced "$MNT/pods/upd/events" &&
  [ "$(cat "$MNT/pods/upd/phase")" = Running ] &&
  grep -q "b up" "$MNT/pods/upd/containers/b/previous.log" &&
  grep -q "b up" "$MNT/pods/upd/containers/b/logs" || { cat "$MNT/pods/upd/events"; return 1; }
}
check "only b's image changed: b restarted with it (restartCount 1, Killing event), a untouched, same pod" t_image_in_place

t_same_meaning() {
  local a0 b0; a0=$(cst upd a '["containerID"]'); b0=$(cst upd b '["containerID"]')
  # the same manifest with a comment, JSON-style lists and quotes
  { echo "# edited by hand"; two_yaml busybox '"docker.io/library/busybox:v2"'; } >"$T/same.yaml"
  cp "$T/same.yaml" "$MNT/pods/upd/spec.yaml" || return 1
  sleep 2
  cmp "$T/same.yaml" "$MNT/pods/upd/spec.yaml" &&
  [ "$(cst upd a '["containerID"]')" = "$a0" ] && [ "$(cst upd b '["containerID"]')" = "$b0" ] &&
  [ "$(cst upd b '["restartCount"]')" = 1 ] && ! grep -q Replaced "$MNT/pods/upd/events"
}
check "a manifest that means the same (comment, quoting): stored as written, nothing restarted" t_same_meaning

t_other_change_replaces() {
  local a0; a0=$(cst upd a '["containerID"]')
  two_yaml busybox busybox | sed 's/echo a up/echo a up again/' >"$MNT/pods/upd/spec.yaml" || return 1
  wait_for 30 file_has "$MNT/pods/upd/events" "Replaced" &&
  wait_for 30 running_again upd a 0 &&
  [ "$(cst upd a '["containerID"]')" != "$a0" ] &&
  [ "$(cst upd b '["image"]')" = busybox ] &&
  wait_for 10 file_has "$MNT/pods/upd/logs" "a up again"
}
check "a command changed too: the pod is replaced (Replaced event, restart counts from 0)" t_other_change_replaces

t_policy_never_restarts_too() {
  # the kubelet restarts a container with a new definition even under
  # restartPolicy Never; the pod does not fail on the way
  sed 's/^spec:/spec:\n  restartPolicy: Never/' <(two_yaml busybox busybox) | pod never
  wait_for 30 running_again never a 0 || return 1
  sed 's/^spec:/spec:\n  restartPolicy: Never/' <(two_yaml docker.io/library/busybox:v2 busybox) \
    >"$MNT/pods/never/spec.yaml" || return 1
  wait_for 30 running_again never a 1 &&
  [ "$(cst never b '["restartCount"]')" = 0 ] &&
  [ "$(cat "$MNT/pods/never/phase")" = Running ]
}
check "restartPolicy Never: a new image still restarts that container; the pod stays Running" t_policy_never_restarts_too

t_finished_pod() {
  one_yaml Never busybox '["echo", "finished"]' | pod done
  wait_for 30 phase_is done Succeeded || return 1
  # the same meaning again: nothing runs
  { echo "# again"; cat "$MNT/pods/done/spec.yaml"; } >"$T/again.yaml"
  cp "$T/again.yaml" "$MNT/pods/done/spec.yaml" || return 1
  sleep 2
  phase_is done Succeeded && [ "$(grep -c "Started c" "$MNT/pods/done/events")" = 1 ] || return 1
  # a new image: a finished pod has nothing to keep, so it runs again as
  # a new pod (as any other change to it does)
  sed 's|image: busybox|image: docker.io/library/busybox:v2|' "$T/again.yaml" >"$T/done.yaml"
  cp "$T/done.yaml" "$MNT/pods/done/spec.yaml" || return 1
  wait_for 30 file_has "$MNT/pods/done/events" Replaced &&
  wait_for 30 phase_is done Succeeded &&
  [ "$(cst done c '["image"]')" = docker.io/library/busybox:v2 ] &&
  [ "$(cst done c '["restartCount"]')" = 0 ] && cmp "$T/done.yaml" "$MNT/pods/done/spec.yaml"
}
check "a finished pod: the same meaning runs nothing; a new image runs it again as a new pod" t_finished_pod

t_fix_bad_tag() {
  # the seed's first pod: a tag that does not exist; fixing the tag lets
  # the same pod go on (no new pod, no back-off left to wait out)
  one_yaml Always 127.0.0.1:1/library/busybox:lastest '["sh", "-c", "echo fixed; sleep 3600"]' | pod typo
  wait_for 30 bash -c "grep -q 'ErrImagePull\|ImagePullBackOff' '$MNT/pods/typo/status'" || return 1
  sed 's|127.0.0.1:1/library/busybox:lastest|docker.io/library/busybox:v2|' "$MNT/pods/typo/spec.yaml" >"$T/typo.yaml"
  cp "$T/typo.yaml" "$MNT/pods/typo/spec.yaml" || return 1
  wait_for 20 phase_is typo Running &&
  wait_for 10 file_has "$MNT/pods/typo/logs" fixed &&
  [ "$(cst typo c '["restartCount"]')" = 0 ] && ! grep -q Replaced "$MNT/pods/typo/events"
}
check "a wrong tag fixed in spec.yaml: the same pod pulls nothing, starts at once, Running" t_fix_bad_tag

t_after_podfs_restart() {
  # the spec is stored before the containers are restarted: a podfs killed
  # in between restarts them when it comes back
  two_yaml busybox busybox | sed 's/echo a up/echo a up again/' >"$T/cur.yaml"
  cmp "$T/cur.yaml" "$MNT/pods/upd/spec.yaml" || return 1
  sed 's|image: busybox$|image: docker.io/library/busybox:v2|' "$T/cur.yaml" >"$T/next.yaml"
  # podfs killed right after the manifest is stored (before or after its
  # supervisor acted on it: either way the new image must end up running)
  cp "$T/next.yaml" "$MNT/pods/upd/spec.yaml" && podfs_kill9
  podfs_start --backoff-scale 0.1 || return 1
  wait_for 30 running_again upd b 1 && wait_for 30 running_again upd a 1 &&
  [ "$(cst upd a '["image"]')" = docker.io/library/busybox:v2 ] &&
  [ "$(cst upd b '["image"]')" = docker.io/library/busybox:v2 ] &&
  cmp "$T/next.yaml" "$MNT/pods/upd/spec.yaml" && ! grep -q Replaced <(tail -n 8 "$MNT/pods/upd/events") ||
    { cat "$MNT/pods/upd/status" "$MNT/pods/upd/events"; return 1; }
}
check "podfs killed right after an image change is stored: started again, the containers run the new image" t_after_podfs_restart

t_stored_not_acted() {
  # exactly the state a podfs leaves when it dies after storing a new
  # manifest and before acting on it (spec.prev.yaml is the one the pod
  # runs): made by hand, with podfs down, so the test does not depend on
  # when the kill lands
  podfs_kill9
  local d="$STATE/pods/upd"
  [ -f "$d/spec.yaml" ] || { echo "no stored spec"; return 1; }
  sed 's|image: docker.io/library/busybox:v2|image: busybox|' "$d/spec.yaml" >"$T/back.yaml"
  sed -i '0,/image: busybox/s||image: docker.io/library/busybox:v2|' "$T/back.yaml" # a keeps v2
  ln -f "$d/spec.yaml" "$d/spec.prev.yaml" && cp "$T/back.yaml" "$d/spec.new" &&
    mv "$d/spec.new" "$d/spec.yaml" || return 1
  podfs_start --backoff-scale 0.1 || return 1
  wait_for 30 running_again upd b 2 &&
  [ "$(cst upd b '["image"]')" = busybox ] &&
  [ "$(cst upd a '["image"]')" = docker.io/library/busybox:v2 ] &&
  [ "$(cst upd a '["restartCount"]')" = 1 ] &&
  grep -q "Killing b: Container b definition changed" <(tail -n 6 "$MNT/pods/upd/events") &&
  ! grep -q Replaced <(tail -n 6 "$MNT/pods/upd/events") || { cat "$MNT/pods/upd/events"; return 1; }
}
check "podfs died after storing an image change, before acting: only that container restarts" t_stored_not_acted

t_cleanup() { rm -r "$MNT/pods/upd" "$MNT/pods/never" "$MNT/pods/done" "$MNT/pods/typo" && no_pods; }
check "pods deleted" t_cleanup
finish
