#!/usr/bin/env bash
# t0041-patterns-net: the seed's networked pod patterns, run from the
# examples as a user would: the ambassador (examples/ambassador.yaml: the
# app talks only to localhost, the ambassador proxies to another pod by
# IP, examples/ambassador-backend.yaml) and the adapter
# (examples/adapter.yaml: the app's own status format on a shared emptyDir,
# normalized and served over HTTP on the pod IP, read from the host).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
[ -x /usr/lib/cni/bridge ] || skip_all "CNI plugins not installed (scripts/install-deps.sh)"
images_import || fail_all "image import failed"
podfs_start || fail_all

ready() { [ "$(st "$1" "[c[\"ready\"] for c in d[\"containerStatuses\"] if c[\"name\"]==\"$2\"][0]")" = True ]; }
VETHS_BEFORE=$(veths)

t_ambassador() {
  mkdir "$MNT/pods/backend" && cp "$TOP/examples/ambassador-backend.yaml" "$MNT/pods/backend/spec.yaml" &&
  wait_for 20 phase_is backend Running && wait_for 20 ready backend web || return 1
  local bip; bip=$(ip_of backend)
  [ -n "$bip" ] || return 1
  mkdir "$MNT/pods/amb" && sed "s/BACKEND_IP/$bip/" "$TOP/examples/ambassador.yaml" >"$MNT/pods/amb/spec.yaml" &&
  wait_for 20 phase_is amb Running || return 1
  local aip; aip=$(ip_of amb)
  echo "backend $bip, ambassador pod $aip"
  # the app's lines carry the backend's page, fetched from localhost:9000
  wait_for 30 grep -q "^request [0-9]*: .*Hello from simple-container-app" "$MNT/pods/amb/containers/app/logs" &&
  grep -qx "BACKEND_HOST=$bip" "$MNT/pods/amb/containers/ambassador/env" &&
  # the app's only address is localhost
  grep -q 'http://127.0.0.1:9000/' "$MNT/pods/amb/spec.yaml" &&
  ! grep -q "$bip" "$MNT/pods/amb/containers/app/env" &&
  # and the backend saw the request come from the ambassador's pod IP
  { grep -Eq "^(\[::ffff:)?${aip//./\\.}\]?:[0-9]+: url:/" "$MNT/pods/backend/logs" || { cat "$MNT/pods/backend/logs"; false; }; } &&
  # several round trips, not one
  wait_for 20 bash -c "[ \$(grep -c 'Hello from simple-container-app' '$MNT/pods/amb/containers/app/logs') -ge 3 ]"
}
check "ambassador: app -> localhost:9000 -> ambassador -> other pod by IP, and back" t_ambassador


metric() { curl -fsS -m 5 "http://$1:8080/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }

t_adapter() {
  mkdir "$MNT/pods/adapter" && cp "$TOP/examples/adapter.yaml" "$MNT/pods/adapter/spec.yaml" &&
  wait_for 20 phase_is adapter Running || return 1
  local ip; ip=$(ip_of adapter)
  [ -n "$ip" ] || return 1
  # ready through its httpGet probe on /metrics at the pod IP
  wait_for 30 ready adapter adapter || return 1
  local body; body=$(curl -fsS -m 5 "http://$ip:8080/metrics") || return 1
  echo "$body"
  echo "$body" | grep -qx "# TYPE app_up gauge" &&
  echo "$body" | grep -qx "app_up 1" &&
  echo "$body" | grep -qx "# TYPE app_requests_total counter" &&
  echo "$body" | grep -Eqx "app_requests_total [1-9][0-9]*" &&
  echo "$body" | grep -Eqx "app_errors_total [0-9]+" &&
  # no line in the app's own format leaks through
  ! echo "$body" | grep -q "^REQUESTS"
}
check "adapter: the app's status, normalized, served over HTTP on the pod IP" t_adapter

t_adapter_live() {
  # the view follows the app: its counter moves (the emptyDir is shared)
  local ip; ip=$(ip_of adapter)
  local a; a=$(metric "$ip" app_requests_total)
  [ -n "$a" ] && wait_for 20 bash -c "v=\$(curl -fsS -m 5 http://$ip:8080/metrics | awk '\$1 == \"app_requests_total\" { print \$2 }'); [ -n \"\$v\" ] && [ \"\$v\" -gt $a ]"
}
check "adapter: the normalized view follows the app's status" t_adapter_live

t_cleanup() {
  rmdir "$MNT/pods/amb" "$MNT/pods/adapter" "$MNT/pods/backend" && [ "$(veths)" = "$VETHS_BEFORE" ]
}
check "pods deleted: their veths are gone" t_cleanup

finish
