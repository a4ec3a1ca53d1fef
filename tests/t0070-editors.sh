#!/usr/bin/env bash
# t0070-editors: editors and file tools on the mount (issue 7): vim with
# its default backup-by-rename and with backupcopy=yes, nano, sed -i, cp,
# mv from inside and outside the mount; scratch files live in memory in
# the pod directory and never become pods; refused renames change nothing;
# ls -l, stat, find, grep -r and du give sensible answers and terminate.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
for t in vim nano strace python3; do
  command -v "$t" >/dev/null || skip_all "$t not installed (scripts/install-deps.sh)"
done
images_import || fail_all "image import failed"
podfs_start || fail_all

P=$MNT/pods/ed
# manifest VERSION: one container that says its version and waits
manifest() { sleeper_yaml "" "version $1"; }
# running VERSION: the pod runs the manifest of VERSION (applied, replaced)
running() {
  grep -q "echo version $1;" "$P/spec.yaml" && phase_is ed Running && file_has "$P/logs" "version $1"
}
# no editor leftovers and no stray entries in the pod directory
clean_dir() {
  local extra
  extra=$(ls -A "$P" | grep -vxE 'spec.yaml|status|status.json|phase|logs|env|events|containers')
  [ -z "$extra" ] || { echo "left in $P: $extra"; return 1; }
}
# vim as a user runs it, scripted; backupskip is emptied because the test
# mount lives under /tmp, which vim's default backupskip excludes
vim_sub() { # vim_sub FROM TO [vim args...]
  local from=$1 to=$2; shift 2
  (cd "$P" && timeout 60 vim -u NONE -N -es --cmd 'set backupskip=' "$@" \
    -c "%s/$from/$to/" -c 'wq' spec.yaml </dev/null)
}

t_setup() {
  mkdir "$P" && manifest v1 >"$P/spec.yaml" && wait_for 30 running v1
}
check "a pod to edit" t_setup

t_vim_default() {
  strace -f -o "$T/vim.trace" -e trace=rename,renameat,renameat2,openat,unlink \
    bash -c "$(declare -f vim_sub); P='$P'; vim_sub 'version v1' 'version v2'" || return 1
  # the rename path: the original becomes the backup, a new file is written
  grep -E 'rename(at2?)?\(.*"spec.yaml", .*"spec.yaml~".*= 0' "$T/vim.trace" &&
  grep -E 'openat\(.*"spec.yaml", O_WRONLY\|O_CREAT.*= [0-9]' "$T/vim.trace" &&
  grep -q 'unlink("spec.yaml~") *= 0' "$T/vim.trace" &&
  wait_for 30 running v2 && clean_dir
}
check "vim (default: backup by rename, writebackup) applies the edit, leaves nothing" t_vim_default

t_vim_backupcopy() {
  strace -f -o "$T/vim2.trace" -e trace=rename,renameat,renameat2,openat,unlink \
    bash -c "$(declare -f vim_sub); P='$P'; vim_sub 'version v2' 'version v3' -c 'set backupcopy=yes'" || return 1
  grep -E 'openat\(.*"spec.yaml~", O_WRONLY\|O_CREAT\|O_EXCL.*= [0-9]' "$T/vim2.trace" &&
  ! grep -E 'rename.*"spec.yaml"' "$T/vim2.trace" &&
  wait_for 30 running v3 && clean_dir
}
check "vim with backupcopy=yes (copy, write in place) applies the edit" t_vim_backupcopy

t_vim_refused() {
  local before; before=$(cid ed)
  cp "$P/spec.yaml" "$T/good.yaml"
  if vim_sub 'image: busybox' 'imagee: busybox' >"$T/vim.out" 2>&1; then
    echo "vim succeeded"; return 1
  fi
  # the write failed at close (EINVAL) and vim put its backup back
  cmp "$T/good.yaml" "$P/spec.yaml" && [ "$(cid ed)" = "$before" ] && phase_is ed Running &&
  grep -q "Warning FailedApply.*imagee: unknown field; did you mean image?" "$P/events" &&
  clean_dir
}
check "vim writing a refused manifest fails; spec and container unchanged" t_vim_refused

t_sed() {
  sed -i 's/version v3/version v4/' "$P/spec.yaml" && wait_for 30 running v4 && clean_dir
}
check "sed -i (temporary file renamed over spec.yaml) applies" t_sed

cat >"$T/nano.py" <<'EOF'
# drive nano on a pty: replace all of ARGV[2] by ARGV[3] in ARGV[1], save, quit
import os, pty, select, sys, time
f, old, new = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "xterm"
    os.execvp("nano", ["nano", "--ignorercfiles", f])
def drain(t):
    end = time.time() + t
    while time.time() < end:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                os.read(fd, 65536)
            except OSError:
                return
def send(s):
    os.write(fd, s.encode())
    drain(0.7)
drain(1.5)
for keys in ["\x1c", old + "\r", new + "\r", "a", "\x13", "\x18"]:  # ^\ replace, All, ^S, ^X
    send(keys)
deadline = time.time() + 20
while time.time() < deadline:
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        sys.exit(os.waitstatus_to_exitcode(st))
    drain(0.2)
os.kill(pid, 9)
sys.exit(99)
EOF

t_nano() {
  (cd "$P" && python3 "$T/nano.py" spec.yaml 'version v4' 'version v5') &&
  wait_for 30 running v5 && clean_dir
}
check "nano (a real one on a pty) saves in place with O_TRUNC and applies" t_nano

t_otrunc() {
  manifest v6 >"$T/v6.yaml"
  python3 - "$P/spec.yaml" "$T/v6.yaml" <<'EOF' || return 1
import os, sys
data = open(sys.argv[2], "rb").read()
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, data[:40]); os.write(fd, data[40:])   # two writes, then close
os.close(fd)
EOF
  wait_for 30 running v6
}
check "open O_TRUNC, write in pieces, close (nano's save) applies" t_otrunc

t_cp_over() {
  manifest v7 >"$T/v7.yaml" && cp "$T/v7.yaml" "$P/spec.yaml" && wait_for 30 running v7 &&
  cmp "$T/v7.yaml" "$P/spec.yaml"
}
check "cp over an existing spec.yaml applies" t_cp_over

t_mv_inside() {
  local before; before=$(grep -c . "$MNT/ps")
  manifest v8 >"$P/new.yaml" || return 1
  # a scratch file: listed, readable, not applied, not a pod
  ls "$P" | grep -qx new.yaml && cmp "$P/new.yaml" <(manifest v8) &&
  grep -q "version v7" "$P/spec.yaml" && [ "$(grep -c . "$MNT/ps")" = "$before" ] &&
  mv "$P/new.yaml" "$P/spec.yaml" && wait_for 30 running v8 && [ ! -e "$P/new.yaml" ] &&
  clean_dir
}
check "a file made in the pod dir is only a file; mv over spec.yaml applies it" t_mv_inside

t_mv_outside() {
  # across file systems mv unlinks spec.yaml, then creates it with O_EXCL
  manifest v9 >"$T/v9.yaml" && mv "$T/v9.yaml" "$P/spec.yaml" && wait_for 30 running v9 &&
  manifest v10 >"$T/v10.yaml" && cp --remove-destination "$T/v10.yaml" "$P/spec.yaml" &&
  wait_for 30 running v10 && clean_dir
}
check "mv from another file system and cp --remove-destination apply" t_mv_outside

# A container that writes once, at once, then stays silent: its line must
# reach logs even when it comes between podfs's first read of the new log
# and the watch on it (a lost line once made t_mv_outside wait forever).
t_replace_many() {
  local i
  for i in $(seq 20 59); do
    manifest "r$i" >"$T/r.yaml" || return 1
    if [ $((i % 2)) = 0 ]; then mv "$T/r.yaml" "$P/spec.yaml"; else cp --remove-destination "$T/r.yaml" "$P/spec.yaml"; fi || return 1
    wait_for 30 running "r$i" || { echo "replacement r$i: its line never reached logs"; tail -n 3 "$P/events"; return 1; }
  done
  manifest v10 >"$P/spec.yaml" && wait_for 30 running v10
}
check "40 replacements in a row: each new container's first line reaches logs" t_replace_many

t_refused_rename() {
  local before; before=$(cid ed)
  cp "$P/spec.yaml" "$T/good.yaml"
  printf 'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: app\n    image: busybox\n    imagePullPolcy: Always\n' >"$P/bad.yaml" || return 1
  # rename(2) fails with EINVAL (mv words that "a subdirectory of itself")
  python3 -c 'import errno, os, sys
try:
    os.rename(sys.argv[1], sys.argv[2])
except OSError as e:
    sys.exit(0 if e.errno == errno.EINVAL else 1)
sys.exit(1)' "$P/bad.yaml" "$P/spec.yaml" || { echo "rename did not fail with EINVAL"; return 1; }
  if mv "$P/bad.yaml" "$P/spec.yaml" 2>/dev/null; then echo "mv succeeded"; return 1; fi
  cmp "$T/good.yaml" "$P/spec.yaml" && [ -f "$P/bad.yaml" ] &&
  [ "$(cid ed)" = "$before" ] && phase_is ed Running &&
  grep -q "Warning FailedApply.*imagePullPolcy: unknown field" "$P/events" &&
  rm "$P/bad.yaml" && clean_dir
}
check "a refused rename fails with EINVAL and leaves the pod and the file" t_refused_rename

t_rename_away() {
  local before; before=$(cid ed)
  local started; started=$(grep -c "Started" "$P/events")
  cp "$P/spec.yaml" "$T/cur.yaml"
  mv "$P/spec.yaml" "$P/spec.bak" &&
  ! ls "$P" | grep -qx spec.yaml && [ ! -e "$P/spec.yaml" ] && cmp "$T/cur.yaml" "$P/spec.bak" &&
  phase_is ed Running && [ "$(cid ed)" = "$before" ] && [ -d "$P" ] &&
  # the same manifest back: visible again, nothing restarted
  mv "$P/spec.bak" "$P/spec.yaml" && cmp "$T/cur.yaml" "$P/spec.yaml" &&
  sleep 2 && [ "$(cid ed)" = "$before" ] && [ "$(grep -c "Started" "$P/events")" = "$started" ] &&
  clean_dir
}
check "renaming spec.yaml away hides it and keeps the pod; renaming it back changes nothing" t_rename_away

t_rm_spec() {
  local before; before=$(cid ed)
  rm "$P/spec.yaml" && [ ! -e "$P/spec.yaml" ] && phase_is ed Running && [ "$(cid ed)" = "$before" ] &&
  manifest v11 >"$P/spec.yaml" && wait_for 30 running v11
}
check "rm spec.yaml keeps the pod running; a new spec.yaml applies" t_rm_spec

t_scratch_not_pods() {
  local pods_before node_before
  pods_before=$(ls "$MNT/pods" | sort | tr '\n' ' ')
  node_before=$(grep -i pods "$MNT/node")
  printf 'swap' >"$P/.spec.yaml.swp" && printf 'x' >"$P/spec.yaml~" && : >"$P/4913" &&
  echo 'kind: Pod' >"$P/other.yaml" || return 1
  ls -A "$P" | grep -qx .spec.yaml.swp && ls -A "$P" | grep -qx 'spec.yaml~' &&
  [ "$(cat "$P/.spec.yaml.swp")" = swap ] && [ "$(stat -c %s "$P/.spec.yaml.swp")" = 4 ] &&
  [ "$(ls "$MNT/pods" | sort | tr '\n' ' ')" = "$pods_before" ] &&
  [ "$(grep -i pods "$MNT/node")" = "$node_before" ] &&
  ! grep -q "other\|swp" "$MNT/ps" && grep -q "version v11" "$P/spec.yaml" &&
  rm "$P/.spec.yaml.swp" "$P/spec.yaml~" "$P/4913" "$P/other.yaml" && clean_dir
}
check "scratch files are listed and readable, never pods, never the spec" t_scratch_not_pods

t_scratch_limits() {
  local i
  for i in $(seq 1 64); do : >"$P/tmp$i" || { echo "file $i refused"; return 1; }; done
  if ( : >"$P/tmp65" ) 2>"$T/err"; then echo "65th file made"; return 1; fi
  grep -q "No space left on device" "$T/err" || { cat "$T/err"; return 1; }
  for i in $(seq 1 64); do rm "$P/tmp$i" || return 1; done
  head -c 4194304 /dev/zero >"$P/big" || { echo "4 MiB refused"; return 1; }
  if head -c 4194305 /dev/zero >"$P/big" 2>"$T/err"; then echo "4 MiB + 1 written"; return 1; fi
  grep -q "No space left on device" "$T/err" && rm "$P/big" && clean_dir
}
check "at most 64 scratch files per pod, 4 MiB each (ENOSPC beyond)" t_scratch_limits

t_refused_places() {
  local e
  e=$(touch "$MNT/pods/stray" 2>&1) && return 1; echo "$e" | grep -q "Operation not permitted" || { echo "$e"; return 1; }
  e=$(touch "$MNT/stray" 2>&1) && return 1; echo "$e" | grep -q "Operation not permitted" || { echo "$e"; return 1; }
  e=$(touch "$P/containers/app/stray" 2>&1) && return 1; echo "$e" | grep -q "Operation not permitted" || { echo "$e"; return 1; }
  e=$(mkdir "$P/sub" 2>&1) && return 1; echo "$e" | grep -q "Operation not permitted" || { echo "$e"; return 1; }
  e=$(mv "$P/status" "$P/status2" 2>&1) && return 1; echo "$e" | grep -q "Permission denied" || { echo "$e"; return 1; }
  e=$(echo x 2>&1 >"$P/status") && return 1; echo "$e" | grep -q "Permission denied" || { echo "$e"; return 1; }
  e=$(ln -s spec.yaml "$P/link" 2>&1) && return 1; echo "$e" | grep -q "Operation not permitted" || { echo "$e"; return 1; }
  e=$(ln "$P/spec.yaml" "$P/hard" 2>&1) && return 1; echo "$e" | grep -q "Operation not permitted" || { echo "$e"; return 1; }
  e=$(mkfifo "$P/fifo" 2>&1) && return 1; echo "$e" | grep -q "Operation not permitted" || { echo "$e"; return 1; }
  # mknod of a regular file is a scratch file like any other
  python3 -c 'import os, stat, sys; os.mknod(sys.argv[1], stat.S_IFREG | 0o644)' "$P/made" &&
  [ -f "$P/made" ] && rm "$P/made" || return 1
  mkdir "$MNT/pods/ed2" || return 1
  e=$(mv -T "$MNT/pods/ed2" "$MNT/pods/ed3" 2>&1) && return 1; echo "$e" | grep -q "Operation not permitted" || { echo "$e"; return 1; }
  [ ! -e "$MNT/pods/stray" ] && [ ! -e "$MNT/pods/ed3" ] && rmdir "$MNT/pods/ed2"
}
check "files in pods/, the root or containers/, subdirectories, links, FIFOs, renamed pods: refused" t_refused_places

t_rm_r_with_scratch() {
  mkdir "$MNT/pods/gone" && echo hello >"$MNT/pods/gone/.spec.yaml.swp" &&
  rm -r "$MNT/pods/gone" && [ ! -e "$MNT/pods/gone" ] &&
  mkdir "$MNT/pods/gone" && [ ! -e "$MNT/pods/gone/.spec.yaml.swp" ] && rmdir "$MNT/pods/gone"
}
check "rm -r removes a pod with scratch files; a new pod of that name starts empty" t_rm_r_with_scratch

t_inodes_recycled() {
  # the kernel forgets a removed file's inode; its number is given out
  # again, so a mount that sees endless sed -i keeps no endless table
  local i first last
  : >"$P/probe" && first=$(stat -c %i "$P/probe") && rm "$P/probe" || return 1
  for i in $(seq 300); do : >"$P/f$i" && rm "$P/f$i" || return 1; done
  sleep 1 # forgets may come in a batch
  : >"$P/probe" && last=$(stat -c %i "$P/probe") && rm "$P/probe" || return 1
  echo "inode $first before, $last after 300 files"
  [ "$last" -lt $((first + 100)) ]
}
check "inode numbers of removed scratch files are reused (nodes freed on forget)" t_inodes_recycled

# a pod that logs a line a millisecond, for tools that read everything
t_chatty() {
  mkdir "$MNT/pods/chatty" && cat >"$MNT/pods/chatty/spec.yaml" <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: talk
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do echo line $i; i=$((i+1)); usleep 1000; done"]
YAML
  wait_for 30 phase_is chatty Running && wait_for 10 file_has "$MNT/pods/chatty/logs" "line 1000"
}
check "a pod that logs a line a millisecond" t_chatty

t_ls_stat() {
  local f want got
  # sizes are what a read returns (logs and events can grow between the
  # two, so those are read first: the size seen is at least that)
  for f in "$P/spec.yaml" "$P/phase" "$P/env" "$MNT/node" "$P/containers/app/env"; do
    want=$(wc -c <"$f"); got=$(stat -c %s "$f")
    [ "$want" = "$got" ] || { echo "$f: size $got, content $want"; return 1; }
  done
  # files that may change meanwhile: equal once in a while is enough
  size_matches() { [ "$(wc -c <"$1")" = "$(stat -c %s "$1")" ]; }
  for f in "$P/status" "$P/status.json" "$P/events" "$MNT/ps" "$P/containers/app/status"; do
    wait_for 10 size_matches "$f" || { echo "$f: size $(stat -c %s "$f"), content $(wc -c <"$f")"; return 1; }
  done
  want=$(wc -c <"$P/logs"); got=$(stat -c %s "$P/logs")
  [ "$got" -ge "$want" ] && [ "$want" -gt 0 ] || { echo "logs: size $got, read $want"; return 1; }
  # every entry stats; nothing dated 1970 or in the future; ls -l works
  find "$MNT" -exec stat -c '%n %s %Y %h' {} + >"$T/stat.out" || return 1
  [ "$(wc -l <"$T/stat.out")" -ge 30 ] || { cat "$T/stat.out"; return 1; }
  awk -v now="$(date +%s)" '$3 < 1600000000 || $3 > now + 5 { print "bad time: " $0; bad=1 } END { exit bad }' "$T/stat.out" || return 1
  ls -lR "$MNT" >"$T/ls.out" && grep -q "spec.yaml" "$T/ls.out" &&
  # a directory has a link per subdirectory: pods/ has 2 + one per pod
  [ "$(stat -c %h "$MNT/pods")" = $((2 + $(ls "$MNT/pods" | wc -l))) ] &&
  [ "$(stat -c %h "$P")" = 3 ] &&
  # a spec's time is when it was applied
  [ "$(stat -c %Y "$P/spec.yaml")" -ge "$(($(date +%s) - 600))" ] &&
  stat -f "$MNT" >/dev/null && df "$MNT" >/dev/null
}
check "ls -l, stat, stat -f: sizes of the content, real times, link counts" t_ls_stat

t_walk() {
  local n
  n=$(timeout 60 find "$MNT" | wc -l) || return 1
  [ "$n" -ge 30 ] || { echo "find saw $n"; return 1; }
  timeout 60 grep -r "version v11" "$MNT" >"$T/grep.out" || { echo "grep -r failed or hung"; return 1; }
  grep -q "pods/ed/logs:version v11" "$T/grep.out" && grep -q "pods/ed/spec.yaml" "$T/grep.out" &&
  timeout 60 grep -rc "line" "$MNT/pods/chatty" >/dev/null &&
  timeout 60 du -s "$MNT" >"$T/du.out" && [ "$(cut -f1 "$T/du.out")" -gt 0 ]
}
check "find, grep -r and du over the mount terminate (a log growing meanwhile)" t_walk

finish
