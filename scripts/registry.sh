#!/usr/bin/env bash
# registry.sh start STATE_DIR [HTPASSWD]
# registry.sh stop  STATE_DIR
# registry.sh url   STATE_DIR
#
# Run a private Debian docker-registry (distribution 2.8, /usr/bin/docker-registry)
# for tests, plain HTTP on 127.0.0.1 only, on a free port chosen here.
#
#   start  writes STATE_DIR/config.yml, stores images in STATE_DIR/storage,
#          logs to STATE_DIR/log, records STATE_DIR/pid and STATE_DIR/port, and
#          returns once GET /v2/ answers (200, or 401 with auth); the port is
#          free one, or $REGISTRY_PORT if set. If this
#          STATE_DIR's registry is already running it does nothing.
#          HTPASSWD (optional): an htpasswd file with **bcrypt** entries
#          (the registry accepts nothing else), e.g. from
#          `htpasswd -Bbn USER PASS` (apache2-utils) or
#          python3 -c 'import crypt;print("USER:"+crypt.crypt("PASS",crypt.mksalt(crypt.METHOD_BLOWFISH)))'.
#          It turns on basic auth (auth.htpasswd, realm "podfs-test-registry");
#          clients then need e.g. skopeo --dest-creds USER:PASS.
#   stop   stops it (SIGTERM, then SIGKILL after 10 s) and waits for it to go;
#          nothing to do is not an error. Storage is kept.
#   url    prints http://127.0.0.1:PORT (fails if it is not running).
#
# Clients must use plain HTTP: skopeo --tls-verify=false / --dest-tls-verify=false.
# With PODFS_REGISTRY_TLS=DIR at start, it speaks HTTPS instead, with
# DIR/server.crt and DIR/server.key (DIR/ca.crt is the CA clients trust);
# if DIR/client-ca.crt exists, clients must show a certificate it signed
# (DIR/client.cert + DIR/client.key are used for the readiness check).
# url then prints https://127.0.0.1:PORT.
# REGISTRY_* environment variables are removed before starting, since the
# registry lets them override the config file.
set -euo pipefail

die() { echo "registry.sh: $*" >&2; exit 1; }
usage() { die "usage: $0 start STATE_DIR [HTPASSWD] | stop STATE_DIR | url STATE_DIR"; }

[ $# -ge 2 ] || usage
CMD=$1
case $CMD in
  start) [ $# -le 3 ] || usage ;;
  stop|url) [ $# -eq 2 ] || usage ;;
  *) usage ;;
esac
[ -n "$2" ] || usage
REGISTRY_BIN=${REGISTRY_BIN:-/usr/bin/docker-registry}
START_TIMEOUT=${REGISTRY_START_TIMEOUT:-15}   # seconds

if [ "$CMD" = start ]; then
  mkdir -p "$2" || die "cannot create $2"
fi
[ -d "$2" ] || die "$2: no such directory"
STATE=$(cd "$2" && pwd)
CFG=$STATE/config.yml
PIDF=$STATE/pid
PORTF=$STATE/port
LOG=$STATE/log

# running: true if STATE/pid names a live docker-registry using our config.
running() {
  local pid cmdline
  [ -s "$PIDF" ] || return 1
  pid=$(cat "$PIDF")
  case $pid in ''|*[!0-9]*) return 1 ;; esac
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  case $cmdline in *docker-registry*"$CFG"*) return 0 ;; esac
  return 1
}

# alive PID: process exists and is not a zombie.
alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

TLS=${PODFS_REGISTRY_TLS:-}
[ -z "$TLS" ] || TLS=$(cd "$TLS" && pwd) || die "PODFS_REGISTRY_TLS: no such directory"
SCHEME=http
[ -z "$TLS" ] || SCHEME=https

# http_status PORT: HTTP status of GET /v2/, or 000.
http_status() {
  local tlsargs=()
  if [ -n "$TLS" ]; then
    tlsargs=(--cacert "$TLS/ca.crt")
    [ ! -f "$TLS/client-ca.crt" ] || tlsargs+=(--cert "$TLS/client.cert" --key "$TLS/client.key")
  fi
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${tlsargs[@]}" \
    "$SCHEME://127.0.0.1:$1/v2/" 2>/dev/null || true
}

# A port nobody listens on, outside the usual ephemeral range (32768-60999).
# REGISTRY_PORT, if set, is used instead (a test restarting a registry on
# the port its clients know).
pick_port() {
  local p
  if [ -n "${REGISTRY_PORT:-}" ]; then echo "$REGISTRY_PORT"; return 0; fi
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 12000))
    if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
      echo "$p"; return 0
    fi
  done
  die "no free port found"
}

yaml_str() { # double-quoted YAML scalar; refuse characters needing escapes
  case $1 in *'"'*|*'\'*|*$'\n'*) die "unsupported character in path: $1" ;; esac
  printf '"%s"' "$1"
}

write_config() { # PORT [HTPASSWD]
  {
    cat <<EOF
# written by podfs scripts/registry.sh
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $(yaml_str "$STATE/storage")
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$1
  secret: podfs-test-registry-secret
  headers:
    X-Content-Type-Options: [nosniff]
EOF
    if [ -n "$TLS" ]; then
      cat <<EOF
  tls:
    certificate: $(yaml_str "$TLS/server.crt")
    key: $(yaml_str "$TLS/server.key")
EOF
      if [ -f "$TLS/client-ca.crt" ]; then
        cat <<EOF
    clientcas:
      - $(yaml_str "$TLS/client-ca.crt")
EOF
      fi
    fi
    if [ -n "${2:-}" ]; then
      cat <<EOF
auth:
  htpasswd:
    realm: podfs-test-registry
    path: $(yaml_str "$2")
EOF
    fi
  } >"$CFG.tmp"
  mv "$CFG.tmp" "$CFG"
}

do_stop() {
  local pid
  if ! running; then
    rm -f "$PIDF" "$PORTF"
    return 0
  fi
  pid=$(cat "$PIDF")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      alive "$pid" || break
      sleep 0.1
    done
    ! alive "$pid" || die "registry pid $pid did not exit"
  fi
  rm -f "$PIDF" "$PORTF"
}

do_start() {
  local htpasswd=${1:-} port pid deadline code
  [ -x "$REGISTRY_BIN" ] || die "$REGISTRY_BIN not found (apt-get install docker-registry)"
  command -v curl >/dev/null || die "curl not found"
  if [ -n "$htpasswd" ]; then
    [ -r "$htpasswd" ] || die "htpasswd file $htpasswd not readable"
    htpasswd=$(cd "$(dirname "$htpasswd")" && pwd)/$(basename "$htpasswd")
  fi

  if running; then
    # already up: fine if it was started with the same auth setting
    if [ -n "$htpasswd" ]; then
      grep -qF "path: \"$htpasswd\"" "$CFG" ||
        die "already running from $STATE with other auth settings; stop it first"
    else
      ! grep -q '^auth:' "$CFG" ||
        die "already running from $STATE with auth; stop it first"
    fi
    return 0
  fi
  rm -f "$PIDF" "$PORTF"
  mkdir -p "$STATE/storage"

  # Unset REGISTRY_* so the environment cannot override config.yml.
  local v envargs=()
  for v in $(compgen -e); do
    case $v in REGISTRY_*) envargs+=(-u "$v") ;; esac
  done

  for _ in 1 2 3 4 5; do
    port=$(pick_port)
    write_config "$port" "$htpasswd"
    echo "=== $(date -u +%FT%TZ) registry.sh start: 127.0.0.1:$port" >>"$LOG"
    # setsid: own session, so the caller's terminal signals do not reach it.
    # (No fork happens here, so $! is the registry's pid.)
    setsid env "${envargs[@]}" "$REGISTRY_BIN" serve "$CFG" </dev/null >>"$LOG" 2>&1 &
    pid=$!
    echo "$pid" >"$PIDF"
    deadline=$((SECONDS + START_TIMEOUT))
    while :; do
      if ! alive "$pid"; then
        wait "$pid" 2>/dev/null || true
        if tail -n 5 "$LOG" | grep -q 'address already in use'; then
          continue 2     # lost a race for the port: pick another one
        fi
        rm -f "$PIDF"
        tail -n 20 "$LOG" >&2
        die "docker-registry exited during startup (log: $LOG)"
      fi
      code=$(http_status "$port")
      case $code in
        200) break ;;
        401) [ -n "$htpasswd" ] && break ;;
      esac
      if [ "$SECONDS" -ge "$deadline" ]; then
        do_stop || true
        tail -n 20 "$LOG" >&2
        die "docker-registry did not answer on 127.0.0.1:$port within ${START_TIMEOUT}s (last HTTP status $code; log: $LOG)"
      fi
      sleep 0.05
    done
    running || die "pid $pid is not our docker-registry (log: $LOG)"
    echo "$port" >"$PORTF"
    return 0
  done
  rm -f "$PIDF"
  die "could not bind a free port after 5 attempts (log: $LOG)"
}

case $CMD in
  start) do_start "${3:-}" ;;
  stop) do_stop ;;
  url)
    running && [ -s "$PORTF" ] || die "no registry running for $STATE"
    scheme=http
    ! grep -q '^  tls:' "$CFG" || scheme=https
    echo "$scheme://127.0.0.1:$(cat "$PORTF")"
    ;;
esac
