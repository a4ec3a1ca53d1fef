#!/usr/bin/env bash
# t0030-registry: images from registries (issue 5). A real Debian
# docker-registry (scripts/registry.sh) with the test images pushed by
# skopeo as OCI and Docker schema2, a multi-platform index, a zstd layer, a
# layer with whiteouts and an opaque dir; pulls through `podfs image pull`
# and through pods; layer sharing; concurrent pulls; pull policies;
# ErrImagePull / ImagePullBackOff timing (scaled); the `lastest` message;
# the registry down, then up; Basic auth from htpasswd. Hostile content
# comes from tests/hostile-registry.py.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
for t in skopeo /usr/bin/docker-registry python3 script; do
  command -v "$t" >/dev/null || skip_all "$t not installed (scripts/install-deps.sh)"
done
images_build || fail_all "image build failed"

REGSH=$TOP/scripts/registry.sh
REG=$T/reg AREG=$T/areg HOSTILE=$T/hostile
SK="timeout 120 skopeo"
HPID=
stop_extra() {
  "$REGSH" stop "$REG" >/dev/null 2>&1
  "$REGSH" stop "$AREG" >/dev/null 2>&1
  [ -n "$HPID" ] && kill "$HPID" 2>/dev/null && wait "$HPID" 2>/dev/null
  HPID=
}
trap 'stop_extra; cleanup' EXIT

"$REGSH" start "$REG" >/dev/null || fail_all "registry did not start"
URL=$("$REGSH" url "$REG")
H=${URL#http://}
PORT=${H#*:}

# ---- images in the registry ------------------------------------------------
W=$T/work
mkdir -p "$W"
push() { $SK copy -q --dest-tls-verify=false "$@"; }

# a layout of its own to build on: busybox + more layers (umoci edits in place)
derive() { # NAME: a copy of the busybox layout
  rm -rf "$W/$1" && cp -a "$IMAGES/busybox" "$W/$1"
}
# busybox + a layer with an opaque /usr/bin (one new file) and a whiteout
# for /bin/yes. (Made here: umoci 0.4.7's `insert --opaque` writes a tar
# without its end blocks, which GNU tar and podfs refuse as truncated.)
build_whiteout() {
  derive wh && python3 - "$W/wh" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
L = sys.argv[1]
B = os.path.join(L, "blobs", "sha256")
def put(b):
    d = hashlib.sha256(b).hexdigest()
    open(os.path.join(B, d), "wb").write(b)
    return "sha256:" + d
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    for name, data in (("usr/bin/.wh..wh..opq", b""), ("usr/bin/marker", b"marker\n"),
                       ("bin/.wh.yes", b"")):
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1700000000
        t.addfile(ti, io.BytesIO(data))
raw = buf.getvalue()
gz = gzip.compress(raw, mtime=0)
idx = json.load(open(os.path.join(L, "index.json")))
e = idx["manifests"][0]
m = json.load(open(os.path.join(B, e["digest"][7:])))
cfg = json.load(open(os.path.join(B, m["config"]["digest"][7:])))
cfg["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(raw).hexdigest())
cb = json.dumps(cfg).encode()
m["config"] = dict(m["config"], digest=put(cb), size=len(cb))
m["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": put(gz), "size": len(gz)})
mb = json.dumps(m).encode()
idx["manifests"][0] = dict(e, digest=put(mb), size=len(mb))
json.dump(idx, open(os.path.join(L, "index.json"), "w"))
PY
}
build_big() { # NAME MB
  derive "$1" && mkdir -p "$W/$1-data" &&
  head -c "$(($2 << 20))" /dev/urandom >"$W/$1-data/blob" &&
  umoci insert --image "$W/$1:latest" "$W/$1-data" /data >/dev/null
}
# an index: arm64 first, then amd64, then a BuildKit attestation
build_multi() {
  derive multi && python3 - "$W/multi" <<'PY'
import hashlib, json, os, sys
L = sys.argv[1]
B = os.path.join(L, "blobs", "sha256")
def put(obj, raw=None):
    b = raw if raw is not None else json.dumps(obj).encode()
    d = hashlib.sha256(b).hexdigest()
    open(os.path.join(B, d), "wb").write(b)
    return {"digest": "sha256:" + d, "size": len(b)}
idx = json.load(open(os.path.join(L, "index.json")))
amd = idx["manifests"][0]
m = json.load(open(os.path.join(B, amd["digest"][7:])))
cfg = json.load(open(os.path.join(B, m["config"]["digest"][7:])))
cfg["architecture"] = "arm64"
m2 = dict(m, config=dict(m["config"], **put(cfg)))
arm = dict(put(m2), mediaType="application/vnd.oci.image.manifest.v1+json",
           platform={"architecture": "arm64", "os": "linux", "variant": "v8"})
att_layer = dict(put(None, b'{"_type":"https://in-toto.io/Statement/v0.1"}'),
                 mediaType="application/vnd.in-toto+json")
att_cfg = dict(put({"architecture": "unknown", "os": "unknown", "rootfs": {"type": "layers", "diff_ids": []}}),
               mediaType="application/vnd.oci.image.config.v1+json")
att = dict(put({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": att_cfg, "layers": [att_layer]}),
           mediaType="application/vnd.oci.image.manifest.v1+json",
           platform={"architecture": "unknown", "os": "unknown"},
           annotations={"vnd.docker.reference.type": "attestation-manifest",
                        "vnd.docker.reference.digest": amd["digest"]})
amd2 = {k: v for k, v in amd.items() if k != "annotations"}
amd2["platform"] = {"architecture": "amd64", "os": "linux"}
ix = put({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
          "manifests": [arm, amd2, att]})
idx["manifests"].append(dict(ix, mediaType="application/vnd.oci.image.index.v1+json",
                             annotations={"org.opencontainers.image.ref.name": "multi"}))
json.dump(idx, open(os.path.join(L, "index.json"), "w"))
open(os.path.join(L, "amd64-digest"), "w").write(amd["digest"])
PY
}

t_push_all() {
  push "oci:$IMAGES/busybox:latest" "docker://$H/library/busybox:latest" &&
  push --format v2s2 "oci:$IMAGES/simple-container-app:latest" \
    "docker://$H/arisu1000/simple-container-app:latest" &&
  push "oci:$IMAGES/busybox:latest" "docker://$H/test/policy:v1" &&
  rm -rf "$W/zdir" &&
  $SK copy -q --dest-compress --dest-compress-format zstd "oci:$IMAGES/busybox:latest" "dir:$W/zdir" &&
  push "dir:$W/zdir" "docker://$H/test/zstd:latest" &&
  build_whiteout && push "oci:$W/wh:latest" "docker://$H/test/whiteout:latest" &&
  build_multi && push --all "oci:$W/multi:multi" "docker://$H/test/multi:latest" &&
  build_big big 16 && push "oci:$W/big:latest" "docker://$H/test/big:latest"
}
check "push busybox (OCI), simple-container-app (schema2), zstd, whiteout, index, 16 MB image" t_push_all

# ---- the command line -----------------------------------------------------------
CLI=$T/cli
pf() { "$PODFS" --state-dir "$CLI" "$@"; }
ctype() { # REPO TAG: Content-Type of the manifest
  curl -s -o /dev/null -w '%{content_type}' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json' \
    "$URL/v2/$1/manifests/$2"
}
store_layers() { ls "$CLI/images/layers" | wc -l; }

t_pull_oci() {
  [ "$(ctype library/busybox latest)" = application/vnd.oci.image.manifest.v1+json ] &&
  pf image pull "$H/library/busybox" >"$T/o" 2>&1 && cat "$T/o" &&
  grep -q "^pulled $H/library/busybox:latest (sha256:" "$T/o" &&
  pf image ls | grep -q "^$H/library/busybox:latest " && [ "$(store_layers)" = 1 ] &&
  grep -q '"source": "pull"' "$CLI/images/refs.json"
}
check "image pull of an OCI image: in the store, one layer unpacked" t_pull_oci

t_pull_schema2_shared() {
  [ "$(ctype arisu1000/simple-container-app latest)" = application/vnd.docker.distribution.manifest.v2+json ] &&
  pf --registry-mirror "docker.io=$URL" image pull arisu1000/simple-container-app >"$T/o" 2>&1 &&
  cat "$T/o" &&
  grep -q "^pulled docker.io/arisu1000/simple-container-app:latest" "$T/o" &&
  # the busybox base layer is already there: only the app layer downloaded
  grep -Eq "downloaded" "$T/o" && ! grep -q ", 1.1 MB downloaded" "$T/o" &&
  [ "$(store_layers)" = 2 ]
}
check "Docker schema2 through --registry-mirror docker.io=URL; base layer shared, not fetched again" t_pull_schema2_shared

t_pull_index() {
  local want
  want=$(cat "$W/multi/amd64-digest")
  [ "$(ctype test/multi latest)" = application/vnd.oci.image.index.v1+json ] &&
  pf image pull "$H/test/multi:latest" >"$T/o" 2>&1 && cat "$T/o" &&
  grep -q "($want," "$T/o"
}
check "an index (arm64 first, amd64, attestation): the linux/amd64 manifest is pulled" t_pull_index

t_pull_zstd() {
  curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$URL/v2/test/zstd/manifests/latest" |
    grep -q 'tar+zstd' &&
  pf image pull "$H/test/zstd" >"$T/o" 2>&1 && cat "$T/o" && grep -q "^pulled" "$T/o" &&
  # the same content as the gzip layer: same diff_id, no second layer dir
  [ "$(store_layers)" = 2 ]
}
check "a zstd layer: pulled, and its diff_id matches the gzip one (shared)" t_pull_zstd

t_lastest() {
  ! pf --registry-mirror "docker.io=$URL" image pull arisu1000/simple-container-app:lastest >"$T/o" 2>&1 &&
  cat "$T/o" &&
  grep -qF 'tag "lastest" not found in docker.io/arisu1000/simple-container-app; did you mean "latest"?' "$T/o"
}
check "a missing tag: 'tag \"lastest\" not found ...; did you mean \"latest\"?'" t_lastest

t_mirror_fallback() {
  # an unreachable mirror: the registry itself is asked next
  pf --registry-mirror "$H=http://127.0.0.1:1" image pull "$H/test/policy:v1" >"$T/o" 2>&1 &&
  cat "$T/o" && grep -q "^pulled $H/test/policy:v1" "$T/o" &&
  # a mirror that answers "not found" is final: the origin is not asked
  ! grep -q "registry-1.docker.io" <(pf --registry-mirror "docker.io=$URL" image pull arisu1000/simple-container-app:lastest 2>&1)
}
check "mirrors: an unreachable one falls back to the registry; a 'not found' is final" t_mirror_fallback

t_unreachable() {
  ! pf image pull 127.0.0.1:1/x/y >"$T/o" 2>&1 && cat "$T/o" &&
  grep -q 'cannot reach 127.0.0.1:1 (GET http://127.0.0.1:1/v2/): .*Connection refused\|cannot reach 127.0.0.1:1 (GET http://127.0.0.1:1/v2/): .*Couldn.t connect' "$T/o"
}
check "an unreachable registry: the host and the connection error" t_unreachable

t_by_digest() {
  local d
  d=$($SK inspect --tls-verify=false --format '{{.Digest}}' "docker://$H/library/busybox:latest") &&
  pf image pull "$H/library/busybox@$d" >"$T/o" 2>&1 && cat "$T/o" &&
  grep -q "^pulled $H/library/busybox@$d ($d," "$T/o" &&
  ! pf image pull "$H/library/busybox@sha256:$(printf '%064d' 1)" >"$T/o" 2>&1 && cat "$T/o" &&
  grep -q "manifest \"sha256:0*1\" not found in $H/library/busybox" "$T/o"
}
check "pull by digest; an unknown digest is named" t_by_digest

t_concurrent_cli() {
  : >"$REG/log.mark"; local before
  before=$(wc -l <"$REG/log")
  pf image pull "$H/test/big" >"$T/o1" 2>&1 & local a=$!
  pf image pull "$H/test/big" >"$T/o2" 2>&1 & local b=$!
  wait $a && wait $b && cat "$T/o1" "$T/o2" &&
  grep -q "^pulled" "$T/o1" && grep -q "^pulled" "$T/o2" &&
  local big
  big=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/blobs/sha256/"+json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"][7:])); print(max(m["layers"],key=lambda l:l["size"])["digest"])' "$W/big") &&
  echo "big layer $big" &&
  [ "$(tail -n +"$((before + 1))" "$REG/log" | grep -c "\"GET /v2/test/big/blobs/$big HTTP")" = 1 ] &&
  # their lock files (per reference, per layer) went with the locks
  [ -z "$(ls "$CLI/images/locks")" ] || { ls "$CLI/images/locks"; return 1; }
}
check "two processes pulling one image at once: one download of the layer, no lock files left" t_concurrent_cli

t_progress_plain() {
  pf image rm "$H/test/big" && pf image pull "$H/test/big" >"$T/o" 2>"$T/e" && cat "$T/e" &&
  grep -q "^pulling $H/test/big:latest" "$T/e" && grep -q "(100%)" "$T/e"
}
check "progress lines when not on a terminal" t_progress_plain

t_progress_tty() {
  pf image rm "$H/test/big" &&
  script -qec "$PODFS --state-dir $CLI image pull $H/test/big" /dev/null >"$T/o" 2>&1 &&
  tr '\r' '\n' <"$T/o" | grep -Eq '^[^ ]*test/big:latest \[#+\] 16.8 MB / 16.8 MB 100%' &&
  tr '\r' '\n' <"$T/o" | grep -Eq '\[#* +\] [0-9.]+ [kM]?B / 16.8 MB +[0-9]+%'
}
check "a progress bar on a terminal" t_progress_tty

# ---- hostile content --------------------------------------------------------------
python3 "$TOP/tests/hostile-registry.py" "$T/hport" "$T/hlog" 2>>"$T/hostile.err" &
HPID=$!
wait_for 20 test -s "$T/hport"
HH=127.0.0.1:$(cat "$T/hport" 2>/dev/null)
HS=$T/hstate
hp() { PODFS_MAX_LAYER_BYTES=10000000 "$PODFS" --state-dir "$HS" image pull "$HH/$1" >"$T/o" 2>&1; }
nothing_kept() {
  [ -z "$(ls -A "$HS/images/tmp")" ] && ! grep -q "$1" "$HS/images/refs.json" 2>/dev/null &&
  [ "$(ls "$HS/images/layers" | wc -l)" = 1 ] && ! ls /tmp/podfs-evil* >/dev/null 2>&1
}
t_hostile_ok() { hp good/ok && [ "$(ls "$HS/images/layers" | wc -l)" = 1 ]; }
check "hostile server: its good image pulls" t_hostile_ok
hostile() { # REPO EXPECTED-MESSAGE
  ! hp "$1" && cat "$T/o" && grep -qE "$2" "$T/o" && nothing_kept "$1"
}
check "a blob whose digest does not match: both digests named, nothing kept" \
  hostile bad/digest 'blob "sha256:[0-9a-f]{64}" does not match its digest: its content hashes to "sha256:[0-9a-f]{64}"'
check "two layers fetched at once, the second one bad: refused, the good one not kept either" \
  hostile bad/second 'layer 1: blob "sha256:[0-9a-f]{64}" does not match its digest'
check "a truncated blob: refused, nothing kept" \
  hostile bad/truncated 'is truncated: got [0-9]+ bytes, its descriptor says [0-9]+'
check "a descriptor with the wrong size: refused, nothing kept" \
  hostile bad/size 'image config: blob .* its descriptor says'
check "a lying Docker-Content-Digest: refused" \
  hostile bad/header 'manifest digest mismatch .*Docker-Content-Digest'
check "a manifest whose mediaType disagrees with its Content-Type: refused" \
  hostile bad/mediatype 'says mediaType "application/vnd.oci.image.manifest.v1\+json" but was served as "application/vnd.docker.distribution.manifest.v2\+json"'
check "a 9 MiB manifest: refused" \
  hostile bad/huge 'manifest of .* is larger than 8388608 bytes'
check "a layer with ../ paths: refused, nothing written outside" \
  hostile bad/dotdot 'path escapes the layer'
check "a layer writing through an absolute symlink: refused" \
  hostile bad/abssymlink 'is a symlink; refusing to write through it'
check "a decompression bomb: refused at the limit" \
  hostile bad/bomb 'decompression bomb'

t_redirect_no_auth() {
  echo "{\"auths\":{\"$HH\":{\"auth\":\"$(printf u:p | base64)\"}}}" >"$T/hauth.json" &&
  PODFS_MAX_LAYER_BYTES=10000000 "$PODFS" --state-dir "$HS" --registry-auth "$T/hauth.json" \
    image pull "$HH/auth/redirect" &&
  grep "GET /v2/auth/redirect/manifests/latest auth=yes" "$T/hlog" &&
  grep -q "GET /redirected/" "$T/hlog" && ! grep "GET /redirected/" "$T/hlog" | grep -q "auth=yes"
}
check "Basic auth from --registry-auth; no Authorization sent to a redirect on another host" t_redirect_no_auth

t_interrupted() {
  "$PODFS" --state-dir "$HS" image pull "$HH/slow/big" >"$T/o" 2>&1 & local p=$!
  wait_for 20 bash -c "ls -d '$HS'/images/tmp/*/layer-* 2>/dev/null | grep -q ." || return 1
  kill -9 $p; wait $p 2>/dev/null
  ! grep -q slow/big "$HS/images/refs.json" && [ "$(ls "$HS/images/layers" | wc -l)" = 2 ] &&
  # the next pull starts over and succeeds (leftovers are cleared)
  "$PODFS" --state-dir "$HS" image pull "$HH/slow/big" && [ -z "$(ls -A "$HS/images/tmp")" ] &&
  grep -q slow/big "$HS/images/refs.json"
}
check "a pull killed halfway leaves nothing that looks complete; the next one works" t_interrupted

t_bearer_cli() {
  "$PODFS" --state-dir "$HS" image pull "$HH/bearer/ok" &&
  [ "$(grep -c "GET /token?service=hostile&scope=repository%3Abearer%2Fok%3Apull " "$T/hlog")" = 1 ] &&
  # manifest, config and layer all went with the one token
  [ "$(grep -c "GET /v2/bearer/ok/.* auth=yes" "$T/hlog")" -ge 3 ]
}
check "Bearer: the challenge's realm, service and scope; one token for the whole pull" t_bearer_cli

# ---- Basic auth with the registry's htpasswd ------------------------------------
t_basic_auth() {
  python3 -c 'import crypt; print("alice:" + crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH)))' >"$T/htpasswd" &&
  "$REGSH" start "$AREG" "$T/htpasswd" >/dev/null && local au ah
  au=$("$REGSH" url "$AREG") && ah=${au#http://} &&
  push --dest-creds alice:s3cret "oci:$IMAGES/busybox:latest" "docker://$ah/private/bb:latest" &&
  ! "$PODFS" --state-dir "$T/as" image pull "$ah/private/bb" >"$T/o" 2>&1 && cat "$T/o" &&
  grep -q "requires authentication" "$T/o" &&
  mkdir -p "$T/as" && echo "{\"auths\":{\"http://$ah\":{\"username\":\"alice\",\"password\":\"s3cret\"}}}" >"$T/as/auth.json" &&
  "$PODFS" --state-dir "$T/as" image pull "$ah/private/bb" &&
  echo "{\"auths\":{\"$ah\":{\"auth\":\"$(printf alice:wrong | base64)\"}}}" >"$T/as/auth.json" &&
  ! "$PODFS" --state-dir "$T/as" image pull "$ah/private/bb" >"$T/o" 2>&1 && cat "$T/o" &&
  grep -q "refused the credentials" "$T/o"
}
check "htpasswd registry: refused without credentials, pulled with STATE/auth.json, wrong password named" t_basic_auth
"$REGSH" stop "$AREG" >/dev/null 2>&1

# ---- pods ----------------------------------------------------------------------
podfs_start --backoff-scale 0.1 --registry-mirror "docker.io=$URL" ||
  { echo "podfs did not start"; finish; }
events() { cat "$MNT/pods/$1/events"; }
# waiting_is POD REASON MESSAGE-PREFIX
waiting_is() {
  local w
  w=$(c0 "$1" '["state"]["waiting"]["reason"] + "|" + d["containerStatuses"][0]["state"]["waiting"]["message"]') &&
  [[ $w == "$2|$3"* ]]
}

t_pod_pull() {
  pod web <<YAML
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: arisu1000/simple-container-app
YAML
  wait_for 60 phase_is web Running && events web &&
  events web | grep -Eq 'Normal +Pulling web: Pulling image "arisu1000/simple-container-app"' &&
  events web | grep -Eq 'Normal +Pulled web: Successfully pulled image "arisu1000/simple-container-app" in [0-9.]+s \([0-9.]+s including waiting\). Image size: [0-9]+ bytes\.' &&
  events web | grep -q "Started web"
}
check "a pod whose image is only in the registry: Pulling, Pulled with time and size, Running" t_pod_pull

t_pod_whiteout() {
  pod wh <<YAML
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: $H/test/whiteout
    command: ["sh", "-c", "ls /usr/bin; test -e /bin/yes && echo yes-present; test -e /bin/sh && echo sh-present"]
YAML
  wait_for 60 phase_is wh Succeeded && cat "$MNT/pods/wh/logs" &&
  [ "$(cat "$MNT/pods/wh/logs")" = "$(printf 'marker\nsh-present')" ]
}
check "whiteout and opaque dir applied: /bin/yes gone, /usr/bin holds only the new file" t_pod_whiteout

t_two_pods_one_pull() {
  local before; before=$(wc -l <"$REG/log")
  "$PODFS" --state-dir "$STATE" image rm "$H/test/big" >/dev/null 2>&1
  for n in p1 p2; do
    pod "$n" <<YAML
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: $H/test/big:latest
    command: ["sleep", "3600"]
YAML
  done
  wait_for 60 phase_is p1 Running && wait_for 60 phase_is p2 Running &&
  local big
  big=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/blobs/sha256/"+json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"][7:])); print(max(m["layers"],key=lambda l:l["size"])["digest"])' "$W/big") &&
  [ "$(tail -n +"$((before + 1))" "$REG/log" | grep -c "\"GET /v2/test/big/blobs/$big HTTP")" = 1 ]
}
check "two pods pulling one image at the same time: one download" t_two_pods_one_pull

t_rm_in_use() {
  ! "$PODFS" --state-dir "$STATE" image rm "$H/test/big" >"$T/o" 2>&1 && cat "$T/o" &&
  grep -q "in use by a pod" "$T/o" && grep -q "pod p[12]" "$T/o" &&
  rm -r "$MNT/pods/p1" "$MNT/pods/p2" &&
  "$PODFS" --state-dir "$STATE" image rm "$H/test/big"
}
check "image rm refuses an image a pod uses, and removes it once no pod does" t_rm_in_use

t_never() {
  pod never <<YAML
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: c
    image: $H/test/policy:absent
    imagePullPolicy: Never
YAML
  wait_for 20 grep -q "reason: ErrImageNeverPull" "$MNT/pods/never/status" &&
  [ "$(c0 never '["state"]["waiting"]["message"]')" = "Container image \"$H/test/policy:absent\" is not present with pull policy of Never" ] &&
  phase_is never Pending && ! grep -q "GET /v2/test/policy/manifests/absent" "$REG/log" &&
  rm -r "$MNT/pods/never"
}
check "imagePullPolicy Never, image absent: ErrImageNeverPull, no registry request" t_never

t_imported_always() {
  "$PODFS" --state-dir "$STATE" image import "$IMAGES/busybox" "$H/test/imported:latest" >/dev/null &&
  pod imported <<YAML &&
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: $H/test/imported
    command: ["sleep", "3600"]
YAML
  wait_for 30 phase_is imported Running &&
  "$PODFS" validate "$MNT/pods/imported/spec.yaml" | grep -q '"imagePullPolicy": "Always"' &&
  events imported | grep -q "Container image \"$H/test/imported\" already present on machine" &&
  ! grep -q "/v2/test/imported/" "$REG/log" && rm -r "$MNT/pods/imported"
}
check "an imported image counts as present for Always (the :latest default): no registry request" t_imported_always

t_invalid_name() {
  pod badname <<'YAML'
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: c
    image: Busybox:-x
YAML
  wait_for 20 grep -q "reason: InvalidImageName" "$MNT/pods/badname/status" &&
  grep -q 'invalid image name' "$MNT/pods/badname/status" && phase_is badname Pending &&
  events badname | grep -q 'Warning InspectFailed c: Failed to apply default image tag "Busybox:-x"' &&
  grep -Eq "badname  *0/1  *InvalidImageName" "$MNT/ps" && rm -r "$MNT/pods/badname"
}
check "an image name that does not parse: InvalidImageName, InspectFailed event, Pending" t_invalid_name

# the registry goes away: IfNotPresent uses the local copy, Always fails
t_policies_down() {
  "$PODFS" --state-dir "$STATE" image pull "$H/test/policy:v1" >/dev/null &&
  "$PODFS" --state-dir "$STATE" image pull "$H/library/busybox:latest" >/dev/null &&
  "$REGSH" stop "$REG" >/dev/null &&
  pod ifnp <<YAML &&
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: $H/test/policy:v1
    command: ["sleep", "3600"]
YAML
  pod always <<YAML &&
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: $H/library/busybox
    command: ["sleep", "3600"]
YAML
  wait_for 30 phase_is ifnp Running &&
  events ifnp | grep -q "already present on machine" &&
  wait_for 20 waiting_is always ErrImagePull "failed to pull image \"$H/library/busybox:latest\": cannot reach $H (GET $URL/v2/)" &&
  wait_for 20 waiting_is always ImagePullBackOff "Back-off pulling image \"$H/library/busybox\"" &&
  phase_is always Pending &&
  events always | grep -q "Warning Failed c: Failed to pull image \"$H/library/busybox\": " &&
  events always | grep -q "Warning Failed c: Error: ErrImagePull" &&
  events always | grep -Eq "Normal +BackOff c: Back-off pulling image"
}
check "registry down: IfNotPresent runs the local copy; Always (the :latest default) gets ErrImagePull, then ImagePullBackOff" t_policies_down

# back-off 10 s doubling, scaled by 0.1: the failed pulls are 1 s, 2 s, 4 s apart
t_backoff_timing() {
  wait_for 30 bash -c "[ \$(grep -c 'Error: ErrImagePull' '$MNT/pods/always/events') -ge 4 ]" &&
  python3 - "$MNT/pods/always/events" <<'PY'
import re, sys, datetime
ts = []
for line in open(sys.argv[1]):
    if "Error: ErrImagePull" in line:
        t = line.split()[0]
        ts.append(datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp())
gaps = [b - a for a, b in zip(ts, ts[1:])]
print("gaps", gaps)
want = [1, 2, 4]
# event times have 1 s resolution
ok = all(w - 1 <= g <= w * 2 + 2 for w, g in zip(want, gaps[:3])) and gaps[2] > gaps[0]
sys.exit(0 if ok and len(gaps) >= 3 else 1)
PY
}
check "pull back-off doubles: 1 s, 2 s, 4 s apart at --backoff-scale 0.1" t_backoff_timing

t_registry_back() {
  REGISTRY_PORT=$PORT "$REGSH" start "$REG" >/dev/null &&
  wait_for 30 phase_is always Running &&
  events always | grep -q "Successfully pulled image \"$H/library/busybox\""
}
check "the registry comes back: the next try pulls and the pod runs" t_registry_back

t_always_moved_tag() {
  local d1 d2
  push "oci:$IMAGES/busybox:latest" "docker://$H/test/moving:latest" &&
  d1=$($SK inspect --tls-verify=false --format '{{.Digest}}' "docker://$H/test/moving:latest") &&
  pod moving <<YAML &&
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: $H/test/moving
    command: ["sh", "-c", "sleep 2; exit 1"]
YAML
  wait_for 30 st_cmp moving 'd["containerStatuses"][0]["imageID"]' = "$d1" &&
  push "oci:$IMAGES/simple-container-app:latest" "docker://$H/test/moving:latest" &&
  d2=$($SK inspect --tls-verify=false --format '{{.Digest}}' "docker://$H/test/moving:latest") &&
  [ "$d1" != "$d2" ] &&
  wait_for 40 st_cmp moving 'd["containerStatuses"][0]["imageID"]' = "$d2" &&
  [ "$(grep -c 'Successfully pulled image' "$MNT/pods/moving/events")" -ge 2 ] &&
  rm -r "$MNT/pods/moving"
}
check "Always: a restart pulls again and gets the tag's new image" t_always_moved_tag

t_lastest_pod() {
  pod seed <<'YAML'
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: app
    image: arisu1000/simple-container-app:lastest
YAML
  wait_for 20 grep -q "reason: ErrImagePull" "$MNT/pods/seed/status" &&
  grep -qF 'tag \"lastest\" not found in docker.io/arisu1000/simple-container-app; did you mean \"latest\"?' "$MNT/pods/seed/status" &&
  grep -Eq "seed  *0/1  *(ErrImagePull|ImagePullBackOff)" "$MNT/ps" && rm -r "$MNT/pods/seed"
}
check "the seed's pod (tag lastest): ErrImagePull naming the tag that exists" t_lastest_pod

t_progress_in_status() {
  # the hostile server's slow/big: 16 MiB at about 4 MiB/s
  pod prog <<YAML
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: $HH/slow/big
    imagePullPolicy: IfNotPresent
YAML
  wait_for 20 grep -qE "Pulling image .*: [0-9.]+ [kM]?B of 16.8 MB \([0-9]+%\)" "$MNT/pods/prog/status" &&
  grep -E "message: .*Pulling image" "$MNT/pods/prog/status" &&
  grep -q "reason: ContainerCreating" "$MNT/pods/prog/status" &&
  wait_for 30 grep -q "Successfully pulled image \"$HH/slow/big\"" "$MNT/pods/prog/events" &&
  # and a Pulling event with the progress every 10 s (1 s at this scale)
  grep -Eq "Normal +Pulling c: Pulling image \"$HH/slow/big\": [0-9.]+ [kM]?B of 16.8 MB" "$MNT/pods/prog/events" &&
  rm -r "$MNT/pods/prog"
}
check "pull progress (bytes done of total) in the waiting message and in events while it runs" t_progress_in_status

t_bearer_cached() {
  local before; before=$(grep -c "GET /token" "$T/hlog")
  for n in b1 b2; do
    pod "$n" <<YAML
apiVersion: v1
kind: Pod
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: $HH/bearer/ok:$([ $n = b1 ] && echo latest || echo v2)
    imagePullPolicy: Always
YAML
    wait_for 30 grep -q "Successfully pulled image" "$MNT/pods/$n/events" || return 1
  done
  # one more token for the mount (a new process), then reused until expiry
  [ "$(grep -c "GET /token" "$T/hlog")" = $((before + 1)) ] && rm -r "$MNT/pods/b1" "$MNT/pods/b2"
}
check "Bearer tokens are cached across pulls until they expire" t_bearer_cached

finish
