#!/usr/bin/env bash
# build-images.sh OUTDIR
#
# Build podfs's test images offline from /bin/busybox (Debian busybox-static)
# with umoci. Produces two OCI image layouts, each tagged "latest":
#
#   OUTDIR/busybox               busybox + applet symlinks in /bin, /etc/passwd,
#                                /etc/group (root, nobody=65534), /tmp (1777);
#                                Cmd ["sh"], no Entrypoint.
#   OUTDIR/simple-container-app  stand-in for docker.io/arisu1000/simple-container-app:
#                                the same base layer plus a layer with
#                                /www/index.html; Cmd runs busybox httpd in the
#                                foreground on port 8080; ExposedPorts 8080/tcp.
#
# Use them as oci:OUTDIR/busybox:latest (skopeo) or OUTDIR/busybox:latest (umoci).
#
# Idempotent: each layout is built in a temporary directory next to its final
# place and then swapped in, so a rerun replaces the old images and an
# interrupted run leaves the old ones intact. Timestamps come from
# SOURCE_DATE_EPOCH (default 1704067200 = 2024-01-01T00:00:00Z), so two runs
# with the same busybox binary give the same digests.
# Needs root (file ownership in the layers is taken from the build rootfs).
set -euo pipefail

die() { echo "build-images: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
OUTDIR=$1
BUSYBOX=${BUSYBOX:-/bin/busybox}
EPOCH=${SOURCE_DATE_EPOCH:-1704067200}
CREATED=$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ) || die "bad SOURCE_DATE_EPOCH '$EPOCH'"
PATH_ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

[ "$(id -u)" -eq 0 ] || die "must run as root (layer file ownership must be 0:0)"
command -v umoci >/dev/null || die "umoci not found (scripts/install-deps.sh)"
[ -x "$BUSYBOX" ] || die "$BUSYBOX not found (apt-get install busybox-static)"
# A dynamically linked busybox would not run in an image without libc.
if ldd "$BUSYBOX" 2>/dev/null | grep -q '=>'; then
  die "$BUSYBOX is dynamically linked; need busybox-static"
fi

mkdir -p "$OUTDIR" || die "cannot create $OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

WORK=$(mktemp -d "$OUTDIR/.build-images.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

# run CMD...: run quietly, show the output only if it fails.
run() {
  local out
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" >&2
    die "failed: $*"
  fi
}

# Set every mtime under $1 to $EPOCH, without following symlinks.
fix_times() { find "$1" -exec touch -h -d "@$EPOCH" {} +; }

# populate_base ROOT: the busybox rootfs.
populate_base() {
  local r=$1 a applets
  mkdir -p "$r"/{bin,etc,root,home,proc,sys,dev,usr/bin,usr/sbin,sbin,var,tmp}
  chmod 0755 "$r" "$r"/{bin,etc,home,proc,sys,dev,usr,usr/bin,usr/sbin,sbin,var}
  chmod 0700 "$r/root"
  chmod 1777 "$r/tmp"
  install -m 0755 "$BUSYBOX" "$r/bin/busybox"
  applets=$("$BUSYBOX" --list) || die "$BUSYBOX --list failed"
  for a in $applets; do
    case $a in busybox|*/*) continue ;; esac
    ln -s busybox "$r/bin/$a"
  done
  ln -s /bin/busybox "$r/usr/bin/env"   # for '#!/usr/bin/env ...' scripts
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$r/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' >"$r/etc/group"
  chmod 0644 "$r/etc/passwd" "$r/etc/group"
}

# new_base LAYOUT BUNDLE: create LAYOUT:latest holding the base layer and
# config, via an unpacked bundle (left in BUNDLE for further layers).
new_base() {
  local img=$1 bundle=$2
  run umoci init --layout "$img"
  run umoci new --image "$img:latest"
  run umoci unpack --image "$img:latest" "$bundle"
  populate_base "$bundle/rootfs"
  chown -R 0:0 "$bundle/rootfs"
  fix_times "$bundle/rootfs"
  run umoci repack --image "$img:latest" \
    --history.created "$CREATED" --history.created_by "podfs build-images: busybox rootfs" \
    "$bundle"
  run umoci config --image "$img:latest" --no-history \
    --created "$CREATED" --os linux --architecture amd64 \
    --config.env "$PATH_ENV" --config.workingdir / --config.cmd sh
}

# install_layout TMP NAME: replace OUTDIR/NAME by TMP.
install_layout() {
  local tmp=$1 dst=$OUTDIR/$2
  run umoci gc --layout "$tmp"
  chmod -R a+rX "$tmp"
  rm -rf "$dst.old"
  if [ -e "$dst" ]; then mv "$dst" "$dst.old"; fi
  mv "$tmp" "$dst"
  rm -rf "$dst.old"
}

# ---- busybox -------------------------------------------------------------
new_base "$WORK/busybox" "$WORK/bundle-busybox"
install_layout "$WORK/busybox" busybox

# ---- simple-container-app -----------------------------------------------
IMG=$WORK/simple-container-app
new_base "$IMG" "$WORK/bundle-app-base"
# Unpack again: repack always builds on the manifest the bundle was unpacked
# from (recorded in BUNDLE/umoci.json), not on the tag's current manifest, so
# reusing the base bundle would drop the base layer's config changes.
B=$WORK/bundle-app
run umoci unpack --image "$IMG:latest" "$B"
mkdir -p "$B/rootfs/www"
chmod 0755 "$B/rootfs/www"
printf '%s\n' '<html><body>' '<h1>Hello from simple-container-app</h1>' '</body></html>' \
  >"$B/rootfs/www/index.html"
chmod 0644 "$B/rootfs/www/index.html"
chown -R 0:0 "$B/rootfs/www"
fix_times "$B/rootfs"
run umoci repack --image "$IMG:latest" \
  --history.created "$CREATED" --history.created_by "podfs build-images: /www/index.html" \
  "$B"
# --clear=config.cmd: replace the base's ["sh"] instead of appending to it.
run umoci config --image "$IMG:latest" --no-history --created "$CREATED" \
  --clear=config.cmd \
  --config.cmd httpd --config.cmd -f --config.cmd -p --config.cmd 8080 \
  --config.cmd -h --config.cmd /www \
  --config.exposedports 8080/tcp \
  --config.label org.opencontainers.image.title=simple-container-app
install_layout "$IMG" simple-container-app
