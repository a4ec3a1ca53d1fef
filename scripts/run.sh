#!/usr/bin/env bash
# scripts/run.sh [MOUNTPOINT]: everything from a fresh machine to a mounted
# podfs: install the Debian packages, build, import the test images into
# the state dir, mount (default /mnt/podfs, state in /var/lib/podfs or
# $PODFS_STATE_DIR), and say how to start a first pod.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MNT=${1:-/mnt/podfs}
STATE=${PODFS_STATE_DIR:-/var/lib/podfs}
bash scripts/install-deps.sh
make -s
IMAGES=$STATE/test-images
if [ ! -f "$IMAGES/.built" ]; then
  mkdir -p "$IMAGES"
  bash scripts/build-images.sh "$IMAGES"
  touch "$IMAGES/.built"
fi
build/podfs --state-dir "$STATE" image import "$IMAGES/busybox" docker.io/library/busybox:latest
build/podfs --state-dir "$STATE" image import "$IMAGES/simple-container-app" \
  docker.io/arisu1000/simple-container-app:latest
mkdir -p "$MNT"
if mountpoint -q "$MNT"; then
  echo "podfs: $MNT is already mounted"
else
  build/podfs --state-dir "$STATE" "$MNT"
fi
cat <<TXT

podfs is mounted at $MNT (state in $STATE). Start a first pod:

  mkdir $MNT/pods/hello
  cp examples/hello.yaml $MNT/pods/hello/spec.yaml
  cat $MNT/pods/hello/phase; cat $MNT/ps; tail -f $MNT/pods/hello/logs
  rm -r $MNT/pods/hello

The seed's pod, fixed: examples/seed-pod.yaml (mkdir $MNT/pods/kubernetes-simple-pod).
Unmount with: fusermount3 -u $MNT   (pods keep running; mount again to see them)
TXT
