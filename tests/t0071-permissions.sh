#!/usr/bin/env bash
# t0071-permissions: creating or changing pods is root's (or the mounting
# user's) alone (issue 7). A real second user may read nothing without
# -o allow_other, may read with it, and gets EACCES on every change; root
# may do everything. Pod and container names cannot reach outside their
# directory: refused before any file or process is made.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
command -v setpriv >/dev/null && command -v useradd >/dev/null || skip_all "setpriv/useradd missing"
[ -x /usr/bin/python3 ] || skip_all "/usr/bin/python3 missing"
images_import || fail_all "image import failed"

# the second user, made for this test and removed after it
U=podfs-t0071
MADE_USER=
if ! id "$U" >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin "$U" || fail_all "useradd failed"
  MADE_USER=1
fi
trap 'cleanup; [ -n "$MADE_USER" ] && userdel "$U" 2>/dev/null' EXIT
UID2=$(id -u "$U") GID2=$(id -g "$U")
as_user() { setpriv --reuid="$UID2" --regid="$GID2" --clear-groups -- "$@"; }
chmod 711 "$T" # the user must reach the mount point (mktemp made it 0700)

# ops.py: each argument "OP:PATH[:PATH2]:EXPECTED" (EXPECTED an errno name
# or OK); prints every mismatch, exits 1 if there was one
cat >"$T/ops.py" <<'EOF'
import errno, os, sys
bad = 0
for arg in sys.argv[1:]:
    parts = arg.split(":")
    op, path, want = parts[0], parts[1], parts[-1]
    path2 = parts[2] if len(parts) == 4 else None
    try:
        if op == "read":
            with open(path, "rb") as f:
                f.read()
        elif op == "list":
            os.listdir(path)
        elif op == "stat":
            os.stat(path)
        elif op == "write":
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
            os.write(fd, b"kind: Pod\n")
            os.close(fd)
        elif op == "append":
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            os.close(fd)
        elif op == "create":
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.close(fd)
        elif op == "mkdir":
            os.mkdir(path)
        elif op == "rmdir":
            os.rmdir(path)
        elif op == "unlink":
            os.unlink(path)
        elif op == "rename":
            os.rename(path, path2)
        elif op == "truncate":
            os.truncate(path, 0)
        elif op == "chmod":
            os.chmod(path, 0o666)
        elif op == "utime":
            os.utime(path)
        elif op == "access_w":
            if not os.access(path, os.W_OK):
                raise OSError(errno.EACCES, "access")
        got = "OK"
    except OSError as e:
        got = errno.errorcode.get(e.errno, str(e.errno))
    if got != want:
        print("%s %s: got %s, want %s" % (op, path, got, want))
        bad = 1
sys.exit(bad)
EOF
chmod 644 "$T/ops.py"
ops() { /usr/bin/python3 "$T/ops.py" "$@"; }
user_ops() { as_user /usr/bin/python3 "$T/ops.py" "$@"; }

sleeper() { sleeper_yaml "" "hello from $1"; } # sleeper NAME: prints "hello from NAME"

# ---- without allow_other: the kernel keeps other users out -------------
podfs_start || fail_all

t_no_allow_other() {
  mkdir "$MNT/pods/mine" && sleeper mine >"$MNT/pods/mine/spec.yaml" || return 1
  user_ops "stat:$MNT:EACCES" "list:$MNT/pods:EACCES" "read:$MNT/ps:EACCES" \
    "read:$MNT/pods/mine/spec.yaml:EACCES" "mkdir:$MNT/pods/theirs:EACCES" &&
  ops "list:$MNT/pods:OK" "read:$MNT/ps:OK" "read:$MNT/pods/mine/spec.yaml:OK"
}
check "without -o allow_other another user can read nothing (EACCES); root can" t_no_allow_other

podfs_stop
podfs_start -o allow_other || fail_all
P=$MNT/pods/web

t_setup() {
  mkdir "$P" && sleeper web >"$P/spec.yaml" && wait_for 30 phase_is web Running &&
  wait_for 10 file_has "$P/logs" "hello from web" &&
  printf 'notes\n' >"$P/notes.txt" && printf 'swap\n' >"$P/.spec.yaml.swp" &&
  chmod 600 "$P/.spec.yaml.swp"
}
check "with -o allow_other: a pod and two scratch files (0644, 0600) made by root" t_setup

t_user_reads() {
  user_ops "list:$MNT:OK" "list:$MNT/pods:OK" "read:$MNT/ps:OK" "read:$MNT/node:OK" \
    "read:$P/spec.yaml:OK" "read:$P/status:OK" "read:$P/status.json:OK" "read:$P/phase:OK" \
    "read:$P/logs:OK" "read:$P/events:OK" "read:$P/env:OK" "list:$P/containers/app:OK" \
    "read:$P/containers/app/logs:OK" "read:$P/notes.txt:OK" \
    "read:$P/.spec.yaml.swp:EACCES" &&
  [ "$(as_user cat "$P/phase")" = Running ] &&
  as_user grep -q "hello from web" "$P/logs"
}
check "another user reads every generated file, not a 0600 scratch file" t_user_reads

t_user_writes() {
  cp "$P/spec.yaml" "$T/spec.before"
  local id0; id0=$(cid web)
  user_ops "mkdir:$MNT/pods/theirs:EACCES" "write:$P/spec.yaml:EACCES" "append:$P/spec.yaml:EACCES" \
    "truncate:$P/spec.yaml:EACCES" "chmod:$P/spec.yaml:EACCES" "utime:$P/spec.yaml:EACCES" \
    "unlink:$P/spec.yaml:EACCES" "rename:$P/spec.yaml:$P/x:EACCES" \
    "create:$P/new.txt:EACCES" "write:$P/notes.txt:EACCES" "unlink:$P/notes.txt:EACCES" \
    "rename:$P/notes.txt:$P/spec.yaml:EACCES" "rename:$P/notes.txt:$P/n2:EACCES" \
    "unlink:$P/status:EACCES" "rmdir:$P:EACCES" "access_w:$P/spec.yaml:EACCES" \
    "access_w:$MNT/pods:EACCES" || return 1
  # and the tools people would use
  ! as_user mkdir "$MNT/pods/theirs2" 2>/dev/null &&
  ! as_user rm -rf "$P" 2>/dev/null && ! as_user cp "$T/spec.before" "$P/spec.yaml" 2>/dev/null &&
  ! as_user sed -i s/hello/bye/ "$P/spec.yaml" 2>/dev/null &&
  # nothing changed
  [ ! -e "$MNT/pods/theirs" ] && [ ! -e "$MNT/pods/theirs2" ] && [ ! -e "$STATE/pods/theirs" ] &&
  cmp "$T/spec.before" "$P/spec.yaml" && [ -f "$P/notes.txt" ] && [ ! -e "$P/new.txt" ] &&
  [ "$(cid web)" = "$id0" ] &&
  phase_is web Running
}
check "another user: mkdir, write, truncate, chmod, rename, unlink, rmdir, create: EACCES, nothing changes" t_user_writes

t_root_writes() {
  ops "access_w:$P/spec.yaml:OK" "rename:$P/notes.txt:$P/notes2.txt:OK" "unlink:$P/notes2.txt:OK" \
    "unlink:$P/.spec.yaml.swp:OK" "chmod:$P/spec.yaml:OK" "mkdir:$MNT/pods/rootpod:OK" \
    "rmdir:$MNT/pods/rootpod:OK" &&
  sleeper web2 >"$T/web2.yaml" && cp "$T/web2.yaml" "$P/spec.yaml" &&
  wait_for 30 file_has "$P/logs" "hello from web2"
}
check "root may still do everything" t_root_writes

# ---- names ----------------------------------------------------------------
t_pod_names() {
  local before; before=$(ls "$STATE/pods" | sort)
  local long64; long64=$(printf 'a%.0s' $(seq 64))
  local long256; long256=$(printf 'a%.0s' $(seq 256))
  ops "mkdir:$MNT/pods/..:EEXIST" "mkdir:$MNT/pods/.:EEXIST" "mkdir:$MNT/pods/a..b:EINVAL" \
    "mkdir:$MNT/pods/.hidden:EINVAL" "mkdir:$MNT/pods/Web:EINVAL" "mkdir:$MNT/pods/web_1:EINVAL" \
    "mkdir:$MNT/pods/-web:EINVAL" "mkdir:$MNT/pods/web-:EINVAL" "mkdir:$MNT/pods/$long64:EINVAL" \
    "mkdir:$MNT/pods/$long256:ENAMETOOLONG" "create:$MNT/pods/web/$long256:ENAMETOOLONG" "mkdir:$MNT/pods/a.b:EINVAL" \
    "mkdir:$MNT/pods/web/sub:EPERM" "mkdir:$MNT/pods/web/..:EEXIST" || return 1
  # each refusal says why in podfs's log; nothing was made in the state dir
  grep -q 'mkdir pods/a..b: pod name "a..b" must be a DNS-1123 label' "$T/podfs.log" &&
  grep -q 'mkdir pods/Web: pod name "Web" must be a DNS-1123 label' "$T/podfs.log" &&
  grep -q "mkdir pods/$long64: pod name \"$long64\" must be a DNS-1123 label.*at most 63 characters" "$T/podfs.log" &&
  [ "$(ls "$STATE/pods" | sort)" = "$before" ] &&
  [ "$(ls "$MNT/pods" | sort | tr '\n' ' ')" = "web " ] &&
  ! ls -a "$STATE" "$STATE/.." | grep -q "a\.\.b\|hidden"
}
check "pod names: .., ., dots, upper case, _, leading/trailing -, 64 and 256 characters refused" t_pod_names

# bad MANIFEST-FRAGMENT: apply to a fresh slot, expect EINVAL and MESSAGE
t_manifest_name() {
  local slot=$1 body=$2 msg=$3
  mkdir "$MNT/pods/$slot" || return 1
  local before; before=$(find "$STATE" -path "$STATE/images" -prune -o -print | sort)
  printf '%s' "$body" >"$T/bad.yaml"
  if cp "$T/bad.yaml" "$MNT/pods/$slot/spec.yaml" 2>"$T/cp.err"; then echo "applied"; return 1; fi
  grep -q "Invalid argument" "$T/cp.err" || { cat "$T/cp.err"; return 1; }
  grep -qF -- "$msg" "$MNT/pods/$slot/events" || { echo "events:"; cat "$MNT/pods/$slot/events"; return 1; }
  sed 's/\\"/"/g' "$MNT/pods/$slot/status" | grep -qF -- "$msg" || { echo "status:"; cat "$MNT/pods/$slot/status"; return 1; }
  # nothing made: no file anywhere in the state dir, no container
  local after; after=$(find "$STATE" -path "$STATE/images" -prune -o -print | sort)
  [ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); return 1; }
  [ -z "$(cat "$MNT/pods/$slot/phase")" ] && rmdir "$MNT/pods/$slot"
}
c() { # c NAME-LINE: a pod with one container whose name line is given
  printf 'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - %s\n    image: busybox\n' "$1"
}
check "container name ../evil refused (EINVAL, events, status), nothing made" \
  t_manifest_name n1 "$(c 'name: ../evil')" 'spec.containers[0].name: Invalid value: "../evil": must be a DNS-1123 label'
check "container name a/b refused" \
  t_manifest_name n2 "$(c 'name: a/b')" 'spec.containers[0].name: Invalid value: "a/b": must be a DNS-1123 label'
check "container name with NUL refused" \
  t_manifest_name n3 "$(c 'name: "a\0b"')" 'spec.yaml:5:11: string contains a NUL character'
check "container name of 64 characters refused" \
  t_manifest_name n4 "$(c "name: $(printf 'c%.0s' $(seq 64))")" 'must be a DNS-1123 label'
check "container name in upper case refused" \
  t_manifest_name n5 "$(c 'name: App')" 'spec.containers[0].name: Invalid value: "App"'
check "init container name .. refused" \
  t_manifest_name n6 "$(printf 'apiVersion: v1\nkind: Pod\nspec:\n  initContainers:\n  - name: ".."\n    image: busybox\n  containers:\n  - name: app\n    image: busybox\n')" \
  'spec.initContainers[0].name: Invalid value: ".."'
check "metadata.name ../web refused" \
  t_manifest_name n7 "$(printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: ../web\nspec:\n  containers:\n  - name: app\n    image: busybox\n')" \
  'metadata.name'
check "metadata.namespace ../x refused" \
  t_manifest_name n8 "$(printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: ../x\nspec:\n  containers:\n  - name: app\n    image: busybox\n')" \
  'metadata.namespace'
check "volume name ../v refused" \
  t_manifest_name n9 "$(printf 'apiVersion: v1\nkind: Pod\nspec:\n  volumes:\n  - name: ../v\n    emptyDir: {}\n  containers:\n  - name: app\n    image: busybox\n')" \
  'spec.volumes[0].name'

# ---- with default_permissions too: the kernel checks modes first --------
podfs_stop
podfs_start -o allow_other,default_permissions || fail_all

t_default_permissions() {
  mkdir "$MNT/pods/dp" && sleeper dp >"$MNT/pods/dp/spec.yaml" &&
  wait_for 30 phase_is dp Running || { echo "dp not running"; cat "$MNT/pods/dp/status"; return 1; }
  # root edits as before, and announcements (made by podfs's own helper
  # through the mount) still reach watchers
  inotifywait -q -t 30 -e modify "$MNT/pods/dp/status" >"$T/inw.out" 2>&1 &
  local w=$!
  sleep 0.5
  sed -i 's/hello from dp/hello again/' "$MNT/pods/dp/spec.yaml" &&
  wait_for 30 file_has "$MNT/pods/dp/logs" "hello again" || { echo "edit not applied"; return 1; }
  wait "$w" && grep -q MODIFY "$T/inw.out" &&
  user_ops "read:$MNT/pods/dp/status:OK" "write:$MNT/pods/dp/spec.yaml:EACCES" \
    "mkdir:$MNT/pods/theirs:EACCES" "rmdir:$MNT/pods/dp:EACCES" "create:$MNT/pods/dp/x:EACCES"
}
check "with -o default_permissions as well: root edits and is announced, others only read" t_default_permissions

t_no_escape() {
  # nothing named after the refused names appeared anywhere near the state
  ! find "$STATE" "$T" -name evil -o -name v -path '*volumes*' | grep -q . &&
  [ ! -e "$STATE/../evil" ] && [ ! -e "$STATE/pods/evil" ]
}
check "no file outside a pod's directory was made" t_no_escape

finish
