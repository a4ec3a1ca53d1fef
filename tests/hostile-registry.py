#!/usr/bin/env python3
"""hostile-registry.py PORTFILE LOGFILE [GATEFILE]: a tiny OCI registry
(read-only, v2 API subset) on 127.0.0.1 serving images that podfs must
refuse, for tests/t0030-registry.sh. Writes its port to PORTFILE once
listening; logs one line per request (method, path, and whether an
Authorization header came) to LOGFILE.

Repositories (tag "latest"):
  good/ok            a normal one-layer image (sanity)
  bad/digest         a layer blob whose content does not match its digest
  bad/truncated      a layer blob shorter than its descriptor says
  bad/second         two layers; the second one's blob does not match its digest
  bad/size           a config descriptor whose size is wrong
  bad/header         a manifest whose Docker-Content-Digest header lies
  bad/mediatype      an OCI manifest served as Docker schema2 (Content-Type)
  bad/huge           a 9 MiB manifest
  bad/dotdot         a layer with a ../ path
  bad/abssymlink     a layer writing through an absolute symlink
  bad/bomb           a layer of 64 MiB of zeros (tiny compressed)
  auth/redirect      needs Basic auth (user "u", password "p"); its blobs
                     redirect to http://localhost:PORT/... (another host)
  slow/big           a 16 MiB random layer sent at about 4 MiB/s
  bearer/ok          needs a Bearer token from /token (anonymous; tags
                     "latest" and "v2"); tokens are "tok-N", valid 300 s

With GATEFILE (tests/t0060-restart.sh: pulls in flight while podfs is
killed), also:
  gated/pod          one layer: the host's (static) busybox as /bin/sh, and
                     8 MiB of random bytes
  gated/cli          two 8 MiB random layers
whose blobs are sent a quarter at full speed, then trickled (4 kB/s, above
curl's low-speed limit, so the pull is in flight and shows progress) until
GATEFILE exists, then the rest at full speed.
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTFILE, LOGFILE = sys.argv[1], sys.argv[2]
GATEFILE = sys.argv[3] if len(sys.argv) > 3 else None
BLOBS = {}      # digest -> bytes served
MANIFESTS = {}  # (repo, ref) -> (bytes, media type, digest header or None)
OVERRIDE = {}   # (repo, digest) -> bytes served instead
LOCK = threading.Lock()
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def tar_of(entries):
    """entries: list of (name, kind, data/target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, val in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if kind in ("file", "exe"):
                ti.size = len(val)
                ti.mode = 0o755 if kind == "exe" else 0o644
                t.addfile(ti, io.BytesIO(val))
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            elif kind == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = val
                t.addfile(ti)
    return buf.getvalue()


def big_zero_tar(n):
    """A tar with one file of N zero bytes, built without holding a second copy."""
    ti = tarfile.TarInfo("zeros")
    ti.size = n
    ti.mtime = 1700000000
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        t.addfile(ti, io.BytesIO(bytes(n)))
    return buf.getvalue()


def image(repo, tars, tweak=None, level=9):
    layers, diff_ids = [], []
    for tb in tars:
        gz = gzip.compress(tb, compresslevel=level, mtime=0)
        BLOBS[sha(gz)] = gz
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                       "digest": sha(gz), "size": len(gz)})
        diff_ids.append(sha(tb))
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    BLOBS[sha(config)] = config
    m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
         "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": sha(config), "size": len(config)},
         "layers": layers}
    header = None
    if tweak:
        header = tweak(m, layers)
    body = json.dumps(m).encode()
    MANIFESTS[(repo, "latest")] = (body, OCI_MANIFEST, header)
    MANIFESTS[(repo, sha(body))] = (body, OCI_MANIFEST, header)
    return m


hello = tar_of([("hello", "file", b"hello\n")])
image("good/ok", [hello])

def t_digest(m, layers):
    d = layers[0]["digest"]
    good = BLOBS[d]
    OVERRIDE[("bad/digest", d)] = bytes(len(good))  # same size, other content
image("bad/digest", [tar_of([("x", "file", b"digest test\n")])], t_digest)

def t_trunc(m, layers):
    d = layers[0]["digest"]
    OVERRIDE[("bad/truncated", d)] = BLOBS[d][: len(BLOBS[d]) // 2]
image("bad/truncated", [tar_of([("x", "file", os.urandom(4096))])], t_trunc)

def t_size(m, layers):
    m["config"]["size"] += 10
def t_second(m, layers):
    d = layers[1]["digest"]
    OVERRIDE[("bad/second", d)] = bytes(len(BLOBS[d]))
image("bad/second", [tar_of([("first", "file", os.urandom(300000))]),
                     tar_of([("second", "file", b"second\n")])], t_second)

image("bad/size", [tar_of([("x", "file", b"size test\n")])], t_size)

def t_header(m, layers):
    return "sha256:" + "0" * 64
image("bad/header", [tar_of([("x", "file", b"header test\n")])], t_header)

image("bad/mediatype", [tar_of([("x", "file", b"mediatype\n")])])
body, _, hdr = MANIFESTS[("bad/mediatype", "latest")]
MANIFESTS[("bad/mediatype", "latest")] = (
    body, "application/vnd.docker.distribution.manifest.v2+json", hdr)

huge = b'{"schemaVersion":2,"pad":"' + b"x" * (9 << 20) + b'"}'
MANIFESTS[("bad/huge", "latest")] = (huge, OCI_MANIFEST, None)

image("bad/dotdot", [tar_of([("ok", "file", b"ok\n"),
                             ("../../../../../../tmp/podfs-evil-dotdot", "file", b"pwned\n")])])
image("bad/abssymlink", [tar_of([("etc", "symlink", "/tmp/podfs-evil-dir"),
                                 ("etc/pwned", "file", b"pwned\n")])])
image("bad/bomb", [big_zero_tar(64 << 20)])
image("auth/redirect", [tar_of([("x", "file", b"redirected\n")])])
image("bearer/ok", [tar_of([("x", "file", b"bearer\n")])])
MANIFESTS[("bearer/ok", "v2")] = MANIFESTS[("bearer/ok", "latest")]
TOKENS = []
image("slow/big", [tar_of([("big", "file", os.urandom(16 << 20))])])
if GATEFILE:
    bb = open(shutil.which("busybox"), "rb").read()
    image("gated/pod", [tar_of([("bin", "dir", None), ("bin/busybox", "exe", bb),
                                ("bin/sh", "symlink", "busybox"),
                                ("bin/sleep", "symlink", "busybox"),
                                ("pod", "file", os.urandom(8 << 20))])], level=1)
    image("gated/cli", [tar_of([("cli1", "file", os.urandom(8 << 20))]),
                        tar_of([("cli2", "file", os.urandom(8 << 20))])], level=1)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def log(self, note=""):
        with LOCK, open(LOGFILE, "a") as f:
            f.write("%s %s auth=%s host=%s %s\n" % (
                self.command, self.path, "yes" if self.headers.get("Authorization") else "no",
                self.headers.get("Host"), note))

    def send(self, code, body=b"", ctype="application/json", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def err(self, code, c, msg):
        self.send(code, json.dumps({"errors": [{"code": c, "message": msg}]}).encode())

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.log()
        p = self.path
        if p.startswith("/redirected/"):
            d = p[len("/redirected/"):]
            return self.send(200, BLOBS[d], "application/octet-stream")
        if p.startswith("/token?"):
            with LOCK:
                TOKENS.append("tok-%d" % (len(TOKENS) + 1))
                tok = TOKENS[-1]
            return self.send(200, json.dumps({"token": tok, "expires_in": 300}).encode())
        if p == "/v2/" or p == "/v2":
            return self.send(200, b"{}", extra={"Docker-Distribution-Api-Version": "registry/2.0"})
        if not p.startswith("/v2/"):
            return self.err(404, "NOT_FOUND", "no")
        rest = p[4:]
        for kind in ("/manifests/", "/blobs/"):
            if kind in rest:
                repo, ref = rest.split(kind, 1)
                break
        else:
            return self.err(404, "NOT_FOUND", "no")
        if repo.startswith("auth/"):
            want = "Basic dTpw"  # u:p
            if self.headers.get("Authorization") != want:
                return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"login"}]}',
                                 extra={"WWW-Authenticate": 'Basic realm="hostile"'})
        if repo.startswith("bearer/"):
            a = self.headers.get("Authorization") or ""
            if not (a.startswith("Bearer ") and a[7:] in TOKENS):
                port = self.server.server_address[1]
                return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"token"}]}', extra={
                    "WWW-Authenticate": 'Bearer realm="http://127.0.0.1:%d/token",service="hostile",'
                                        'scope="repository:%s:pull"' % (port, repo)})
        if kind == "/manifests/":
            if (repo, ref) not in MANIFESTS:
                return self.err(404, "MANIFEST_UNKNOWN", "manifest unknown")
            body, mt, hdr = MANIFESTS[(repo, ref)]
            return self.send(200, body, mt, {"Docker-Content-Digest": hdr or sha(body)})
        if ref not in BLOBS:
            return self.err(404, "BLOB_UNKNOWN", "blob unknown")
        if repo.startswith("auth/"):
            port = self.server.server_address[1]
            return self.send(307, b"", extra={
                "Location": "http://localhost:%d/redirected/%s" % (port, ref)})
        body = OVERRIDE.get((repo, ref), BLOBS[ref])
        if repo.startswith("slow/"):
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(0, len(body), 256 << 10):
                self.wfile.write(body[i:i + (256 << 10)])
                time.sleep(0.06)
            return
        if repo.startswith("gated/") and self.command == "GET":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            off = len(body) // 4
            self.wfile.write(body[:off])
            self.wfile.flush()
            while not os.path.exists(GATEFILE) and off < len(body) - (1 << 20):
                self.wfile.write(body[off:off + 2048])
                self.wfile.flush()
                off += 2048
                time.sleep(0.5)
            self.wfile.write(body[off:])
            return
        return self.send(200, body, "application/octet-stream")


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
