#!/usr/bin/env bash
# check-infiniband.sh: checks that this node has a usable InfiniBand port, for a pool's start
# task on RDMA sizes (no root needed).
#
#   check-infiniband.sh [--sysfs-root DIR] [--min-rate-gbps N] [--require-ipoib] [--allow-ethernet]
#
# Lists every port under DIR/class/infiniband/*/ports/* (DIR defaults to /sys) with its state
# ("4: ACTIVE"), physical state, rate ("200 Gb/sec (4X HDR)") and link layer, then fails unless
# at least one port is ACTIVE, has link layer InfiniBand (--allow-ethernet also accepts RoCE
# ports, link layer Ethernet) and runs at N Gb/sec or more (default: any rate).
# It also reports the IPoIB interfaces (ib*) and their IPv4 addresses from `ip -o -4 addr show`;
# --require-ipoib fails when none has an address.
# Exit status: 0 ok; 1 the check failed (one line on stderr says why); 2 bad usage.
set -euo pipefail

prog=$(basename "$0")

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
die() { echo "$prog: $*" >&2; exit 1; }
usage_error() { echo "$prog: $* (try --help)" >&2; exit 2; }

sysfs=/sys
min_rate=0
require_ipoib=0
allow_ethernet=0
while (($#)); do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --sysfs-root) (($# >= 2)) || usage_error "--sysfs-root needs a directory"; sysfs=$2; shift ;;
    --sysfs-root=*) sysfs=${1#*=} ;;
    --min-rate-gbps) (($# >= 2)) || usage_error "--min-rate-gbps needs a number"; min_rate=$2; shift ;;
    --min-rate-gbps=*) min_rate=${1#*=} ;;
    --require-ipoib) require_ipoib=1 ;;
    --allow-ethernet) allow_ethernet=1 ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
  shift
done
[[ $min_rate =~ ^[0-9]+(\.[0-9]+)?$ ]] || usage_error "--min-rate-gbps '$min_rate' is not a number"
[[ -d $sysfs ]] || usage_error "sysfs root $sysfs is not a directory"

read_attr() {  # FILE -> its first line, or "?" when unreadable
  local line
  if [[ -r $1 ]] && IFS= read -r line <"$1"; then printf '%s' "$line"; else printf '?'; fi
}

# "200 Gb/sec (4X HDR)" -> 200; "2.5 Gb/sec (1X SDR)" -> 2.5; anything else -> 0
rate_gbps() {
  if [[ $1 =~ ^([0-9]+(\.[0-9]+)?)[[:space:]]*Gb/sec ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi
}

at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

ib=$sysfs/class/infiniband
shopt -s nullglob
ports=("$ib"/*/ports/*)
shopt -u nullglob
((${#ports[@]})) || die "no InfiniBand device: $ib has no ports (no HCA, or its driver is not loaded)"

usable=0
best=""
best_rate=-1
for port_dir in "${ports[@]}"; do
  device=$(basename "$(dirname "$(dirname "$port_dir")")")
  port=$(basename "$port_dir")
  state=$(read_attr "$port_dir/state")
  phys=$(read_attr "$port_dir/phys_state")
  rate=$(read_attr "$port_dir/rate")
  layer=$(read_attr "$port_dir/link_layer")
  echo "$device port $port: state $state, physical $phys, rate $rate, link layer $layer"
  [[ $state == *ACTIVE* ]] || continue
  [[ $layer == InfiniBand ]] || { ((allow_ethernet)) && [[ $layer == Ethernet ]]; } || continue
  gbps=$(rate_gbps "$rate")
  if awk -v a="$gbps" -v b="$best_rate" 'BEGIN { exit !(a + 0 > b + 0) }'; then best="$device port $port at $gbps Gb/sec"; best_rate=$gbps; fi
  at_least "$gbps" "$min_rate" && usable=$((usable + 1))
done

layers=InfiniBand
((allow_ethernet)) && layers="InfiniBand or Ethernet (RoCE)"
if ((usable == 0)); then
  if [[ -z $best ]]; then
    die "no ACTIVE $layers port among ${#ports[@]} (cable, switch or subnet manager down?)"
  fi
  die "no ACTIVE $layers port at $min_rate Gb/sec or more (best: $best)"
fi
if [[ $min_rate == 0 ]]; then
  echo "$prog: $usable ACTIVE $layers port(s), best $best"
else
  echo "$prog: $usable ACTIVE $layers port(s) at $min_rate Gb/sec or more, best $best"
fi

# IPoIB: "4: ib0    inet 172.16.1.4/16 brd 172.16.255.255 scope global ib0 ..."
if ! command -v ip >/dev/null 2>&1; then
  ((require_ipoib)) && die "ip (iproute2) is not installed: cannot check IPoIB"
  echo "$prog: warning: ip (iproute2) is not installed, IPoIB not checked" >&2
  exit 0
fi
ipoib=$(ip -o -4 addr show 2>/dev/null | awk '$2 ~ /^ib/ { sub(/:$/, "", $2); print $2 " " $4 }' || true)
if [[ -z $ipoib ]]; then
  ((require_ipoib)) && die "no IPoIB interface (ib*) with an IPv4 address"
  echo "$prog: no IPoIB interface (ib*) with an IPv4 address"
  exit 0
fi
while read -r name address; do
  echo "$prog: IPoIB $name $address"
done <<<"$ipoib"
