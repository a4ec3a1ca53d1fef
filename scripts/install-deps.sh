#!/usr/bin/env bash
# Install every Debian package podfs, its tests and its demo need.
# Idempotent: does nothing (and prints nothing) when all are present.
set -euo pipefail

PKGS=(
  build-essential pkg-config git
  libfuse3-dev fuse3 libyaml-dev libjansson-dev libcurl4-openssl-dev
  libarchive-dev libssl-dev
  runc conmon catatonit containernetworking-plugins iproute2 curl
  busybox-static umoci skopeo docker-registry inotify-tools python3 bsdutils
  clang libclang-rt-14-dev valgrind
  vim nano strace
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
