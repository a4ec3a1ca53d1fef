#!/usr/bin/env bash
# t0001-images: build the test images (scripts/build-images.sh), run a private
# registry (scripts/registry.sh), push both images (busybox as OCI,
# simple-container-app converted to Docker schema2), read them back.
# Prints "ok N - ..." / "not ok N - ..." and "P passed, F failed";
# exits 1 if anything failed, 77 (skip) if not root or a tool is missing.
# Everything lives in one temp dir, removed on exit (the registry is stopped).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BUILD_IMAGES=$TOP/scripts/build-images.sh
REGISTRY=$TOP/scripts/registry.sh

skip() { echo "0 passed, 0 failed (skipped: $*)"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
for t in umoci skopeo curl ss /usr/bin/docker-registry /bin/busybox; do
  command -v "$t" >/dev/null || skip "$t not installed (scripts/install-deps.sh)"
done

T=$(mktemp -d /tmp/podfs-t0001.XXXXXX)
cleanup() {
  "$REGISTRY" stop "$T/reg" >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

N=0 PASS=0 FAIL=0
# check DESCRIPTION CMD...: run CMD with output captured; on failure show it.
check() {
  local desc=$1; shift
  N=$((N + 1))
  if ( "$@" ) >"$T/out" 2>&1; then
    PASS=$((PASS + 1)); echo "ok $N - $desc"
  else
    FAIL=$((FAIL + 1)); echo "not ok $N - $desc"
    sed 's/^/#   /' "$T/out" | tail -n 20
  fi
}

SK="timeout 30 skopeo"
IMAGES=$T/images
REG=$T/reg

oci_digest() { # LAYOUT: digest of the "latest" manifest
  $SK inspect --format '{{.Digest}}' "oci:$1:latest"
}

t_build() {
  "$BUILD_IMAGES" "$IMAGES"
  [ -f "$IMAGES/busybox/index.json" ] && [ -f "$IMAGES/simple-container-app/index.json" ]
}
t_rebuild_same() {
  local a b
  a=$(oci_digest "$IMAGES/busybox")
  "$BUILD_IMAGES" "$IMAGES"
  b=$(oci_digest "$IMAGES/busybox")
  [ "$a" = "$b" ] || { echo "digest changed: $a -> $b"; return 1; }
}
t_inspect_oci() {
  local cfg
  cfg=$($SK inspect --config "oci:$IMAGES/$1:latest")
  grep -q '"architecture": "amd64"' <<<"$cfg" && grep -q '"os": "linux"' <<<"$cfg" ||
    { echo "$cfg"; return 1; }
}
t_start() {
  "$REGISTRY" start "$REG"
  URL=$("$REGISTRY" url "$REG")
  [[ $URL == http://127.0.0.1:* ]] || { echo "bad url '$URL'"; return 1; }
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/v2/")" = 200 ]
}
t_push() { # NAME [skopeo copy flags...]
  local name=$1; shift
  $SK copy -q --dest-tls-verify=false "$@" \
    "oci:$IMAGES/$name:latest" "docker://${URL#http://}/library/$name:latest"
}
t_read_back() { # NAME EXPECTED_CONTENT_TYPE
  local ct
  # umoci's OCI manifests have no "mediaType" field: ask the registry.
  ct=$(curl -s -o /dev/null --max-time 5 -w '%{content_type}' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.index.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    "$URL/v2/library/$1/manifests/latest")
  [ "$ct" = "$2" ] || { echo "Content-Type '$ct', want '$2'"; return 1; }
  $SK inspect --tls-verify=false "docker://${URL#http://}/library/$1:latest" >/dev/null
}
t_same_digest() { # pushing as OCI must not change the manifest
  local a b
  a=$(oci_digest "$IMAGES/busybox")
  b=$($SK inspect --tls-verify=false --format '{{.Digest}}' "docker://${URL#http://}/library/busybox:latest")
  [ "$a" = "$b" ] || { echo "local $a, registry $b"; return 1; }
}
t_app_cmd() {
  local cfg
  cfg=$($SK inspect --config --tls-verify=false "docker://${URL#http://}/library/simple-container-app:latest")
  tr -d ' \n' <<<"$cfg" | grep -q '"Cmd":\["httpd","-f","-p","8080"' &&
    grep -q '"8080/tcp"' <<<"$cfg" || { echo "$cfg"; return 1; }
}
t_stop() {
  local pid
  pid=$(cat "$REG/pid")
  "$REGISTRY" stop "$REG"
  [ ! -e "$REG/pid" ] || { echo "pid file left"; return 1; }
  # gone, or a zombie waiting to be reaped by pid 1
  ! [ -d "/proc/$pid" ] || [ "$(awk '{print $3}' "/proc/$pid/stat")" = Z ] ||
    { echo "pid $pid still running"; return 1; }
  ! curl -s -o /dev/null --max-time 2 "$URL/v2/" || { echo "still answering"; return 1; }
}

URL=
check "build-images.sh builds busybox and simple-container-app" t_build
check "rebuilding gives the same busybox digest" t_rebuild_same
check "skopeo inspects oci:busybox:latest" t_inspect_oci busybox
check "skopeo inspects oci:simple-container-app:latest" t_inspect_oci simple-container-app
check "registry.sh starts a registry on 127.0.0.1" t_start
URL=$("$REGISTRY" url "$REG" 2>/dev/null || echo http://127.0.0.1:1)
check "push busybox as OCI" t_push busybox
check "push simple-container-app as Docker v2s2" t_push simple-container-app --format v2s2
check "read back busybox (OCI manifest)" \
  t_read_back busybox application/vnd.oci.image.manifest.v1+json
check "registry busybox digest equals the local one" t_same_digest
check "read back simple-container-app (Docker schema2 manifest)" \
  t_read_back simple-container-app application/vnd.docker.distribution.manifest.v2+json
check "simple-container-app config runs httpd on 8080" t_app_cmd
check "registry.sh stop stops it" t_stop

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
