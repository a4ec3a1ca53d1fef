#!/usr/bin/env bash
# t0040-network: the pod network on a real mount with Debian's CNI plugins:
# pod IPs in the pod range (status, status.json, ps, the container's own
# eth0, hostname -i, /etc/hosts with hostAliases, the downward API), the
# host reaching pods and pods reaching each other, hostNetwork, probes and
# hooks dialled from the node at the pod IP, leases and veths released on
# delete, the IP kept across a podfs restart (and DEL run after it), DEL
# after a failed ADD, and two podfs daemons sharing one pod range.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] ||
  skip_all "CNI plugins not installed (scripts/install-deps.sh)"
images_import || fail_all "image import failed"

CIDR=10.88.0.0/16
LEASES=/run/podfs/cni/ipam/podfs-10.88.0.0-16
# a wrapper plugin directory: the real plugins, and a bridge that logs
# every call and fails ADD (after the real ADD) while $WRAP/fail-add exists
WRAP=$T/cni-bin
mkdir -p "$WRAP"
ln -s /usr/lib/cni/host-local /usr/lib/cni/loopback "$WRAP/"
cat >"$WRAP/bridge" <<EOF
#!/bin/sh
in=\$(cat)
echo "\$CNI_COMMAND \$CNI_CONTAINERID" >>$WRAP/calls
if [ "\$CNI_COMMAND" = ADD ] && [ -e $WRAP/fail-add ]; then
  printf '%s' "\$in" | /usr/lib/cni/bridge >/dev/null
  echo '{"cniVersion":"1.0.0","code":999,"msg":"injected failure","details":"for the test"}'
  exit 1
fi
printf '%s' "\$in" | exec /usr/lib/cni/bridge
EOF
chmod +x "$WRAP/bridge"

# a second daemon (its own mount and state) on the same pod range
MNT2=$T/mnt2 STATE2=$T/state2 PODFS2_PID=
mkdir -p "$MNT2" "$STATE2"
cleanup2() {
  [ -n "$PODFS2_PID" ] || return 0
  if timeout 5 mountpoint -q "$MNT2"; then
    for d in "$MNT2"/pods/*/; do [ -d "$d" ] && timeout 60 rmdir "$d" 2>/dev/null; done
    fusermount3 -u "$MNT2" 2>/dev/null || umount -l "$MNT2" 2>/dev/null
  fi
  wait_for 10 pid_gone "$PODFS2_PID" || kill -9 "$PODFS2_PID" 2>/dev/null
  wait "$PODFS2_PID" 2>/dev/null
  PODFS2_PID=
  # its run dir (runc root, exit files), empty once its pods are gone
  local rd; rd=$(STATE=$STATE2 run_root) && rd=${rd%/runc}
  grep -q " $rd/" /proc/self/mountinfo || rm -rf "$rd"
}
trap 'cleanup2; cleanup' EXIT

podfs_start --backoff-scale 0.1 --cni-bin-dir "$WRAP" || fail_all

in_range() { python3 -c "import ipaddress,sys; sys.exit(0 if ipaddress.ip_address(sys.argv[1]) in ipaddress.ip_network('$CIDR') else 1)" "$1"; }
bridge_name() { ip -o -4 addr show | awk '$4 == "10.88.0.1/16" { print $2 }'; }

VETHS_BEFORE=$(veths)
IPFWD=$(cat /proc/sys/net/ipv4/ip_forward)

t_ip_everywhere() {
  pod web <<'YAML'
apiVersion: v1
kind: Pod
spec:
  hostAliases:
  - ip: 10.1.2.3
    hostnames: [foo.local, bar]
  - ip: 10.1.2.4
    hostnames: [baz]
  containers:
  - name: app
    image: docker.io/arisu1000/simple-container-app:latest
    command: ["sh", "-c", "ip -4 -o addr show eth0; echo HOSTNAME_I=$(hostname -i); cat /etc/hosts; echo ENV_IP=$MY_IP ENV_IPS=$MY_IPS; mkdir /tmp/www; cp /www/index.html /tmp/www/; echo ready >/tmp/www/ready-probe; exec httpd -f -vv -p 8080 -h /tmp/www"]
    env:
    - name: MY_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: MY_IPS
      valueFrom: {fieldRef: {fieldPath: status.podIPs}}
    readinessProbe:
      httpGet: {path: /ready-probe, port: 8080}
      periodSeconds: 1
YAML
  wait_for 20 phase_is web Running || return 1
  IP=$(ip_of web)
  echo "pod IP: $IP"
  in_range "$IP" &&
  [ "$(st web 'd["podIPs"][0]["ip"]')" = "$IP" ] &&
  [ "$(st web 'len(d["podIPs"])')" = 1 ] &&
  [ "$(st web 'd["hostIP"]')" != "" ] &&
  grep -qx "podIP: \"$IP\"" "$MNT/pods/web/status" &&
  awk -v ip="$IP" '$1 == "web" && $NF == ip { found = 1 } END { exit !found }' "$MNT/ps" &&
  wait_for 10 file_has "$MNT/pods/web/logs" "ENV_IP=" &&
  grep -q "eth0 *inet $IP/16" "$MNT/pods/web/logs" &&
  grep -qx "HOSTNAME_I=$IP" "$MNT/pods/web/logs" &&
  grep -qx "ENV_IP=$IP ENV_IPS=$IP" "$MNT/pods/web/logs" &&
  grep -qx "MY_IP=$IP" "$MNT/pods/web/env"
}
check "a pod gets an IP in --pod-cidr: status, status.json, ps, eth0, hostname -i, env" t_ip_everywhere
IP_WEB=$(ip_of web)

t_hosts_file() {
  # the kubelet's managed hosts file: its header, the pod IP with the
  # hostname, then the HostAliases section
  local want
  want=$(printf '%s\n' "# Kubernetes-managed hosts file." $'127.0.0.1\tlocalhost' \
    $'::1\tlocalhost ip6-localhost ip6-loopback' $'fe00::0\tip6-localnet' \
    $'fe00::0\tip6-mcastprefix' $'fe00::1\tip6-allnodes' $'fe00::2\tip6-allrouters' \
    "$IP_WEB"$'\tweb' "" "# Entries added by HostAliases." $'10.1.2.3\tfoo.local\tbar' \
    $'10.1.2.4\tbaz')
  diff <(sed -n '/^# Kubernetes-managed hosts file/,/^10\.1\.2\.4/p' "$MNT/pods/web/logs") <(echo "$want")
}
check "/etc/hosts: the pod IP with its hostname, and hostAliases" t_hosts_file

t_host_reaches_pod() {
  curl -fsS -m 5 "http://$IP_WEB:8080/" | grep -q "Hello from simple-container-app"
}
check "the host reaches the pod's httpd on podIP:8080" t_host_reaches_pod

t_http_probe_from_node() {
  # ready through an httpGet probe the node sent to the pod IP: httpd logs
  # the client, the bridge's address (the node), not 127.0.0.1
  wait_for 15 st_cmp web 'd["containerStatuses"][0]["ready"]' = True &&
  grep -Eq "^(\[::ffff:)?10\.88\.0\.1\]?:[0-9]+: url:/ready-probe" "$MNT/pods/web/logs" &&
  ! grep -Eq "^(\[::ffff:)?127\.0\.0\.1\]?:[0-9]+: url:/ready-probe" "$MNT/pods/web/logs"
}
check "httpGet readiness probe dials the pod IP from the node" t_http_probe_from_node

t_http_hook_from_node() {
  # a postStart httpGet hook of one container reaches the other's httpd at
  # the pod IP, sent by the node (a failed try restarts it; it retries)
  pod hooked <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: srv
    image: docker.io/arisu1000/simple-container-app:latest
    command: ["sh", "-c", "mkdir /tmp/www; echo hi >/tmp/www/poststart-hook; exec httpd -f -vv -p 8080 -h /tmp/www"]
  - name: other
    image: busybox
    command: ["sleep", "3600"]
    lifecycle:
      postStart:
        httpGet: {path: /poststart-hook, port: 8080}
YAML
  wait_for 30 grep -Eq "^(\[::ffff:)?10\.88\.0\.1\]?:[0-9]+: url:/poststart-hook" "$MNT/pods/hooked/containers/srv/logs" &&
  wait_for 20 phase_is hooked Running
}
check "httpGet postStart hook dials the pod IP from the node" t_http_hook_from_node

t_probe_failure_names_pod_ip() {
  pod noport <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    readinessProbe:
      tcpSocket: {port: 8081}
      periodSeconds: 1
YAML
  wait_for 20 phase_is noport Running || return 1
  local ip; ip=$(ip_of noport)
  wait_for 15 grep -q "Readiness probe failed: dial tcp $ip:8081: connect: connection refused" "$MNT/pods/noport/events"
}
check "tcpSocket probe failure names podIP:port" t_probe_failure_names_pod_ip

t_pods_reach_each_other() {
  sed "s/@IP@/$IP_WEB/" <<'YAML' | pod client
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "while true; do wget -q -O- http://@IP@:8080/ && echo FETCHED; sleep 1; done"]
YAML
  wait_for 30 file_has "$MNT/pods/client/logs" "FETCHED" &&
  grep -q "Hello from simple-container-app" "$MNT/pods/client/logs" &&
  local cip; cip=$(ip_of client) &&
  in_range "$cip" && [ "$cip" != "$IP_WEB" ] &&
  # httpd saw the client pod's own address
  wait_for 5 grep -Eq "^(\[::ffff:)?$cip\]?:[0-9]+: url:/" "$MNT/pods/web/logs"
}
check "two pods reach each other by pod IP" t_pods_reach_each_other

t_host_network() {
  pod hostnet <<'YAML'
apiVersion: v1
kind: Pod
spec:
  hostNetwork: true
  hostAliases:
  - ip: 10.9.9.9
    hostnames: [hn-alias]
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "ip -o link; echo IFS_DONE; cat /etc/hosts; echo HOSTS_DONE; sleep 3600"]
YAML
  wait_for 20 phase_is hostnet Running && wait_for 10 file_has "$MNT/pods/hostnet/logs" HOSTS_DONE || return 1
  local hip; hip=$(st hostnet 'd["hostIP"]')
  local nic; nic=$(ip -o -4 addr show | awk -v a="$hip" 'index($4, a"/") == 1 { print $2 }')
  echo "hostIP $hip on $nic"
  [ -n "$hip" ] && [ "$(ip_of hostnet)" = "$hip" ] &&
  awk -v ip="$hip" '$1 == "hostnet" && $NF == ip { f = 1 } END { exit !f }' "$MNT/ps" &&
  grep -q ": $nic[:@]" "$MNT/pods/hostnet/logs" &&
  # the node's hosts file, then the aliases
  grep -q $'^10.9.9.9\thn-alias$' "$MNT/pods/hostnet/logs" &&
  head -n1 /etc/hosts | grep -qxF -f - "$MNT/pods/hostnet/logs" &&
  # no CNI for it: no lease holds its name
  ! grep -rqs hostnet "$LEASES"
}
check "hostNetwork pod: the node's interfaces, podIP = hostIP, node's hosts + aliases" t_host_network

t_delete_releases() {
  pod tmp <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
YAML
  wait_for 20 phase_is tmp Running || return 1
  local ip; ip=$(ip_of tmp)
  local before; before=$(veths)
  [ -f "$LEASES/$ip" ] || { echo "no lease file $LEASES/$ip"; return 1; }
  rmdir "$MNT/pods/tmp" &&
  [ ! -e "$LEASES/$ip" ] &&
  [ "$(veths | wc -l)" -eq $(( $(echo "$before" | wc -l) - 1 )) ]
}
check "delete releases the IP (lease file gone) and the veth" t_delete_releases

t_restart_keeps_ip() {
  local ip; ip=$(ip_of web)
  podfs_kill9
  # while podfs is gone the pod keeps its network
  curl -fsS -m 5 "http://$ip:8080/" >/dev/null || { echo "pod unreachable while podfs down"; return 1; }
  podfs_start --backoff-scale 0.1 --cni-bin-dir "$WRAP" || return 1
  wait_for 10 phase_is web Running &&
  [ "$(ip_of web)" = "$ip" ] &&
  [ "$(restarts web)" = 0 ] &&
  curl -fsS -m 5 "http://$ip:8080/" >/dev/null &&
  [ -f "$LEASES/$ip" ] &&
  : >"$WRAP/calls" &&
  rmdir "$MNT/pods/web" &&
  [ ! -e "$LEASES/$ip" ] &&
  grep -q "^DEL " "$WRAP/calls"
}
check "podfs restarted: same IP, pod still reached; delete after restart runs DEL" t_restart_keeps_ip

t_del_after_failed_add() {
  : >"$WRAP/calls"
  touch "$WRAP/fail-add"
  local leases_before; leases_before=$(ls "$LEASES" 2>/dev/null | grep -c '^10\.')
  local veths_before; veths_before=$(veths | wc -l)
  pod flaky <<'YAML'
apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
YAML
  wait_for 20 grep -q "Warning FailedCreatePodSandBox Failed to create pod sandbox: failed to setup network for sandbox \"[0-9a-f]*\": plugin type=\"bridge\" name=\"podfs-10.88.0.0-16\" failed (add): injected failure; for the test" "$MNT/pods/flaky/events" || { cat "$MNT/pods/flaky/events"; return 1; }
  local cid; cid=$(awk '$1 == "ADD" { print $2; exit }' "$WRAP/calls")
  cat "$WRAP/calls"
  # DEL for the same sandbox right after its failed ADD; the real ADD's
  # lease and veth are gone again; the pod waits
  [ -n "$cid" ] && grep -q "^DEL $cid$" "$WRAP/calls" &&
  [ "$(ls "$LEASES" 2>/dev/null | grep -c '^10\.')" = "$leases_before" ] &&
  ! grep -rqs "$cid" "$LEASES" &&
  [ "$(veths | wc -l)" = "$veths_before" ] &&
  phase_is flaky Pending &&
  [ "$(c0 flaky '["state"]["waiting"]["reason"]')" = ContainerCreating ] &&
  rm "$WRAP/fail-add" &&
  # the next try (after the back-off) succeeds
  wait_for 30 phase_is flaky Running &&
  in_range "$(ip_of flaky)"
}
check "DEL after a failed ADD: lease and veth released, then the pod retries and runs" t_del_after_failed_add

# started here, not inside a check (a subshell), so that cleanup2 knows it
"$PODFS" --state-dir "$STATE2" image import "$IMAGES/busybox" docker.io/library/busybox:latest >/dev/null &&
  { "$PODFS" -f --state-dir "$STATE2" --pod-cidr "$CIDR" "$MNT2" >>"$T/podfs2.log" 2>&1 & PODFS2_PID=$!; }
t_two_daemons() {
  wait_for 10 mountpoint -q "$MNT2" || { cat "$T/podfs2.log"; return 1; }
  local spec='apiVersion: v1
kind: Pod
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "httpd -p 8080 -h /etc; sleep 3600"]'
  for i in 1 2 3; do
    echo "$spec" | pod "one-$i" || return 1
    mkdir "$MNT2/pods/two-$i" && echo "$spec" >"$MNT2/pods/two-$i/spec.yaml" || return 1
  done
  local ips=() p
  for i in 1 2 3; do
    wait_for 20 phase_is "one-$i" Running || return 1
    wait_for 20 bash -c "[ \"\$(cat $MNT2/pods/two-$i/phase)\" = Running ]" || return 1
    ips+=("$(ip_of "one-$i")" "$(json_get "$MNT2/pods/two-$i/status.json" 'd["podIP"]')")
  done
  ips+=("$(ip_of client)" "$(ip_of noport)" "$(ip_of flaky)" "$(ip_of hooked)")
  echo "IPs: ${ips[*]}"
  # all distinct, all in range
  [ "$(printf '%s\n' "${ips[@]}" | sort -u | wc -l)" = "${#ips[@]}" ] || return 1
  for p in "${ips[@]}"; do in_range "$p" || return 1; done
  # a pod of the second daemon is reached from the host and from a pod of the first
  wait_for 10 curl -fsS -m 3 "http://${ips[1]}:8080/hostname" || return 1
  # its pods gone, the bridge stays for the first daemon's pods
  local br; br=$(bridge_name)
  for i in 1 2 3; do rmdir "$MNT2/pods/two-$i" || return 1; done
  [ -n "$br" ] && [ -d "/sys/class/net/$br" ] &&
  curl -fsS -m 3 "http://${ips[0]}:8080/hostname" >/dev/null
}
check "two podfs daemons on one pod range: distinct IPs, one bridge kept while in use" t_two_daemons
cleanup2
t_no_sanitizer_report2() {
  ! grep -q "ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer" "$T/podfs2.log"
}
check "no sanitizer report in the second daemon's log" t_no_sanitizer_report2

t_nothing_left() {
  local br; br=$(bridge_name)
  for p in one-1 one-2 one-3 client noport flaky hostnet hooked; do
    rmdir "$MNT/pods/$p" 2>/dev/null
  done
  # every veth this test made is gone; the bridge too unless another
  # daemon on this machine still has pods on it
  [ "$(veths)" = "$VETHS_BEFORE" ] &&
  { [ ! -e "/sys/class/net/$br" ] || [ -n "$(ls "/sys/class/net/$br/brif")" ]; } &&
  { [ ! -d "$LEASES" ] || [ -n "$(ls "/sys/class/net/$br/brif" 2>/dev/null)" ]; } &&
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$IPFWD" ]
}
check "all pods deleted: veths, bridge and leases gone; ip_forward untouched" t_nothing_left

finish
