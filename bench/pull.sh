#!/usr/bin/env bash
# bench/pull.sh [RUNS] [MB]: pull of an image with a MB-megabyte random-data
# layer (default 50) on top of busybox from a local docker-registry:
# `podfs image pull` into an empty store (download, verify, unpack) against
# `skopeo copy docker://... oci:DIR` (download and verify, no unpack), in
# alternation, each from scratch. Prints both medians and the ratio.
# Needs root and the packages of scripts/install-deps.sh; builds podfs.
set -euo pipefail
RUNS=${1:-7}
MB=${2:-50}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP"
make -s
W=$(mktemp -d /tmp/podfs-bench-pull.XXXXXX)
cleanup() {
  scripts/registry.sh stop "$W/reg" >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT

ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

bash scripts/build-images.sh "$W/images" >/dev/null
mkdir -p "$W/data"
head -c "$((MB << 20))" /dev/urandom >"$W/data/blob"
umoci insert --image "$W/images/busybox:latest" "$W/data" /data >/dev/null
scripts/registry.sh start "$W/reg" >/dev/null
H=$(scripts/registry.sh url "$W/reg"); H=${H#http://}
skopeo copy -q --dest-tls-verify=false "oci:$W/images/busybox:latest" "docker://$H/bench/big:latest"
size=$(skopeo inspect --raw --tls-verify=false "docker://$H/bench/big:latest" |
  python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))')

p=() s=()
for i in $(seq "$RUNS"); do
  rm -rf "$W/st" "$W/oci"
  sync
  t0=$(ms)
  build/podfs --state-dir "$W/st" image pull "$H/bench/big:latest" >/dev/null 2>&1
  p+=($(( $(ms) - t0 )))
  sync
  t0=$(ms)
  skopeo copy -q --src-tls-verify=false "docker://$H/bench/big:latest" "oci:$W/oci:latest"
  s+=($(( $(ms) - t0 )))
done
pm=$(printf '%s\n' "${p[@]}" | median)
sm=$(printf '%s\n' "${s[@]}" | median)
echo "image: busybox + ${MB} MiB random layer, $size bytes compressed; runs: $RUNS (alternating)"
echo "skopeo copy docker:// -> oci: (no unpack):  median $sm ms   [$(printf '%s ' "${s[@]}")]"
echo "podfs image pull (download+unpack):         median $pm ms   [$(printf '%s ' "${p[@]}")]"
awk -v p="$pm" -v s="$sm" 'BEGIN { printf "ratio podfs/skopeo: %.2f (target <= 1.00)\n", p / s }'
