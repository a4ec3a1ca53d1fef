#!/usr/bin/env bash
# t0031-registry-tls: registries over HTTPS with their own CA, as Docker's
# certs.d: STATE/certs.d/HOST:PORT/ca.crt (or --registry-certs-dir DIR)
# makes podfs speak TLS to that registry, even on loopback, trusting that
# CA on top of the system's; NAME.cert + NAME.key there is a client
# certificate. A real docker-registry with certificates made here by
# openssl; a wrong or missing CA fails with the TLS error and where the
# CA goes; a pod pulls through the mount.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
for t in skopeo /usr/bin/docker-registry openssl; do
  command -v "$t" >/dev/null || skip_all "$t not installed (scripts/install-deps.sh)"
done
images_build || fail_all "image build failed"

REGSH=$TOP/scripts/registry.sh
TREG=$T/treg MREG=$T/mreg
stop_extra() {
  "$REGSH" stop "$TREG" >/dev/null 2>&1
  "$REGSH" stop "$MREG" >/dev/null 2>&1
}
trap 'stop_extra; cleanup' EXIT

# ---- certificates: a CA, the registry's, another CA, a client's --------------
PKI=$T/pki
mkdir -p "$PKI/tls" "$PKI/mtls/cl" "$PKI/other"
ossl() { openssl "$@" >>"$T/openssl.log" 2>&1; }
mkca() { # DIR NAME
  ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2" \
    -keyout "$1/ca.key" -out "$1/ca.crt"
}
mkcert() { # CADIR OUT CN [SAN]: OUT.key and OUT.crt signed by CADIR's CA
  ossl req -newkey rsa:2048 -nodes -subj "/CN=$3" -keyout "$2.key" -out "$2.csr" &&
  if [ -n "${4:-}" ]; then printf 'subjectAltName=%s\n' "$4" >"$2.ext"; else : >"$2.ext"; fi &&
  ossl x509 -req -in "$2.csr" -CA "$1/ca.crt" -CAkey "$1/ca.key" -CAcreateserial \
    -days 2 -extfile "$2.ext" -out "$2.crt"
}
mkca "$PKI/tls" "podfs test CA" &&
mkcert "$PKI/tls" "$PKI/tls/server" 127.0.0.1 "IP:127.0.0.1,DNS:localhost" &&
mkca "$PKI/other" "some other CA" &&
cp -r "$PKI/tls/." "$PKI/mtls/" &&
mkca "$PKI/mtls/cl" "client CA" &&
cp "$PKI/mtls/cl/ca.crt" "$PKI/mtls/client-ca.crt" &&
mkcert "$PKI/mtls/cl" "$PKI/mtls/client" "podfs client" &&
mv "$PKI/mtls/client.crt" "$PKI/mtls/client.cert" || fail_all "openssl failed: $(tail -5 "$T/openssl.log")"

PODFS_REGISTRY_TLS=$PKI/tls "$REGSH" start "$TREG" >/dev/null || fail_all "TLS registry did not start"
TURL=$("$REGSH" url "$TREG")
TH=${TURL#https://}
PODFS_REGISTRY_TLS=$PKI/mtls "$REGSH" start "$MREG" >/dev/null || fail_all "mTLS registry did not start"
MURL=$("$REGSH" url "$MREG")
MH=${MURL#https://}

# skopeo reads a Docker-style cert dir too
SKD=$T/skopeo-certs
mkdir -p "$SKD/t" "$SKD/m"
cp "$PKI/tls/ca.crt" "$SKD/t/" && cp "$PKI/mtls/ca.crt" "$PKI/mtls/client.cert" "$PKI/mtls/client.key" "$SKD/m/"
timeout 120 skopeo copy -q --dest-cert-dir "$SKD/t" "oci:$IMAGES/busybox:latest" "docker://$TH/tls/bb:v1" &&
timeout 120 skopeo copy -q --dest-cert-dir "$SKD/m" "oci:$IMAGES/busybox:latest" "docker://$MH/mtls/bb:v1" ||
  fail_all "skopeo could not push to the TLS registries"

S=$T/cli
pf() { "$PODFS" --state-dir "$S" "$@"; }
certs() { # STATE HOSTPORT FILES...: put FILES in STATE/certs.d/HOSTPORT/
  local st=$1 hp=$2; shift 2
  rm -rf "$st/certs.d/$hp" && mkdir -p "$st/certs.d/$hp" && cp "$@" "$st/certs.d/$hp/"
}

t_url() { [[ $TURL == https://127.0.0.1:* ]] && curl -sf --cacert "$PKI/tls/ca.crt" "$TURL/v2/" >/dev/null; }
check "the test registry speaks HTTPS with its own CA (curl --cacert agrees)" t_url

t_no_certs() {
  # no certs.d: loopback means plain HTTP, which a TLS registry refuses
  ! pf image pull "$TH/tls/bb:v1" >"$T/o" 2>&1 && cat "$T/o" && [ -z "$(pf image ls 2>/dev/null | grep tls/bb)" ] &&
  grep -qF "the registry speaks HTTPS; to use it, put its CA certificate in $S/certs.d/$TH/ca.crt" "$T/o"
}
check "without certs.d for it: the pull fails saying where the CA goes; nothing stored" t_no_certs

t_wrong_ca() {
  certs "$S" "$TH" "$PKI/other/ca.crt" &&
  ! pf image pull "$TH/tls/bb:v1" >"$T/o" 2>&1 && cat "$T/o" &&
  grep -q "certificate" "$T/o" && grep -qF "certs.d/$TH/ca.crt" "$T/o"
}
check "another CA in certs.d: the TLS error, and where the registry's CA goes" t_wrong_ca

t_right_ca() {
  certs "$S" "$TH" "$PKI/tls/ca.crt" &&
  pf image pull "$TH/tls/bb:v1" >"$T/o" 2>&1 && pf image ls | grep -q "$TH/tls/bb" &&
  grep -q '/v2/tls/bb/manifests/v1' "$TREG/log"
}
check "the registry's CA in STATE/certs.d/HOST:PORT/ca.crt: pulled over HTTPS" t_right_ca

t_certs_dir_option() {
  local d=$T/mycerts st=$T/cli2
  mkdir -p "$d/$TH" && cp "$PKI/tls/ca.crt" "$d/$TH/registry-ca.crt" &&
  (cd "$T" && "$PODFS" --state-dir "$st" --registry-certs-dir mycerts image pull "$TH/tls/bb:v1") >"$T/o" 2>&1 &&
  "$PODFS" --state-dir "$st" image ls | grep -q "$TH/tls/bb"
}
check "--registry-certs-dir DIR (relative, any NAME.crt) instead of STATE/certs.d" t_certs_dir_option

t_mtls() {
  certs "$S" "$MH" "$PKI/mtls/ca.crt" &&
  ! pf image pull "$MH/mtls/bb:v1" >"$T/o" 2>&1 && cat "$T/o" && grep -q "cannot reach $MH" "$T/o" &&
  grep -qF "if the registry wants a client certificate, put NAME.cert and NAME.key in $S/certs.d/$MH" "$T/o" &&
  certs "$S" "$MH" "$PKI/mtls/ca.crt" "$PKI/mtls/client.cert" "$PKI/mtls/client.key" &&
  pf image pull "$MH/mtls/bb:v1" >"$T/o" 2>&1 && pf image ls | grep -q "$MH/mtls/bb"
}
check "a registry asking for a client certificate: refused without, pulled with NAME.cert + NAME.key" t_mtls

podfs_start --backoff-scale 0.1 || fail_all
t_pod() {
  certs "$STATE" "$TH" "$PKI/tls/ca.crt" &&
  pod tlspod <<YAML &&
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: $TH/tls/bb:v1
    command: ["sh", "-c", "echo pulled over tls; sleep 3600"]
YAML
  wait_for 60 phase_is tlspod Running && wait_for 10 file_has "$MNT/pods/tlspod/logs" "pulled over tls" &&
  grep -q "Pulled app: Successfully pulled image \"$TH/tls/bb:v1\"" "$MNT/pods/tlspod/events" &&
  rm -r "$MNT/pods/tlspod"
}
check "a pod whose image is on the TLS registry: pulled by the daemon, Running" t_pod

finish
