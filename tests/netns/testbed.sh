#!/usr/bin/env bash
# A multi-node test bed on one machine, made of Linux namespaces (root only). Each "host" is a
# network namespace NAME-i plus its own UTS namespace (hostname NAME-node-i), both held open by
# a holder process (`sleep infinity`). The nodes hang off a Linux bridge in a hub namespace
# NAME-hub through veth pairs (eth0 in the node, 10.A.B.(10+i)/24); one more veth pair joins the
# root namespace to the hub (root end <short>h0, 10.A.B.1/24), so a scheduler in the root
# namespace is reachable from the nodes at 10.A.B.1. The /24 is picked, under a lock, among
# those not routed or addressed on this machine. No iptables, NAT, forwarding or sysctl
# changes; nothing on existing interfaces.
#
#   testbed.sh check                  exit 0 when namespaces can be made here, else prints
#                                     "SKIP: <why>" and exits 77
#   testbed.sh up NAME K [STATE_DIR]  makes K nodes; NAME: [a-z][a-z0-9]{0,23}; prints the
#                                     state file (STATE_DIR/testbed.env, plus testbed.json);
#                                     STATE_DIR defaults to ${TMPDIR:-/tmp}/openbatch-testbed-NAME.
#                                     Cleans up after itself when it fails halfway.
#   testbed.sh exec STATE_DIR I CMD...  runs CMD in node I's network and UTS namespaces
#   testbed.sh rsh HOST CMD...        an ssh stand-in for OMPI_MCA_plm_rsh_agent: runs
#                                     /bin/sh -c "CMD..." (the words joined by spaces, as sshd
#                                     does) in the node whose ip, hostname or namespace is HOST;
#                                     needs OPENBATCH_TESTBED_STATE=STATE_DIR in the environment
#   testbed.sh down STATE_DIR|NAME    kills every process in the bed's namespaces, deletes
#                                     them, the veths and the bridge; idempotent
#
# Direct mpirun across the bed (no OpenBatch), as root: mpirun runs inside node 0 and starts
# its remote daemons through `testbed.sh rsh`. Processes entered with nsenter share the
# machine's filesystem, so the same binary path works on every node:
#
#   state=$(testbed.sh up demo 3)                    # .../testbed.env
#   # shellcheck source=/dev/null
#   source "$state"                                  # TESTBED_SUBNET, TESTBED_NODE_<i>_IP, ...
#   OPENBATCH_TESTBED_STATE=$(dirname "$state") \
#   OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
#   OMPI_MCA_plm_rsh_agent="$PWD/tests/netns/testbed.sh rsh" \
#   OMPI_MCA_btl_tcp_if_include=$TESTBED_SUBNET OMPI_MCA_oob_tcp_if_include=$TESTBED_SUBNET \
#   OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader,tcp OMPI_MCA_mpi_yield_when_idle=1 \
#   testbed.sh exec "$(dirname "$state")" 0 mpirun -np 3 \
#       -host "$TESTBED_NODE_0_IP,$TESTBED_NODE_1_IP,$TESTBED_NODE_2_IP" --map-by node \
#       build/mpi_examples/mpi_hello
#   testbed.sh down demo
#
# The three ranks report three hostnames (demo-node-0..2) and their TCP traffic crosses the
# veths. OpenMPI 4.1 needs nothing special for namespaces: each node has only lo and eth0, its
# own hostname (session directories and the rank-to-node map key on it), and OpenMPI treats
# the -host address that is its own as local (no rsh for node 0). The if_include settings,
# OMPI_MCA_pml=ob1 and OMPI_MCA_btl are not strictly needed (the UCX pml finds no transport
# without InfiniBand and steps aside) but pin the transport. OMPI_MCA_mpi_yield_when_idle=1
# matters on a machine with few cores: busy-polling ranks starve the softirq work that moves
# packets across the veths, and every message then waits ~one scheduler tick (4 ms instead of
# ~7 us one-way on 2 cores).
set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
lock_file=${OPENBATCH_TESTBED_LOCK:-/run/lock/openbatch-testbed.lock}
[[ -d $(dirname "$lock_file") ]] || lock_file=/tmp/openbatch-testbed.lock

die() {
  echo "testbed: $*" >&2
  exit 1
}

usage() {
  sed -n '11,24p' "$self" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

valid_name() {
  [[ $1 =~ ^[a-z][a-z0-9]{0,23}$ ]] || die "bad test bed name '$1' (want [a-z][a-z0-9]{0,23})"
}

# The bed's short name, used for the one interface it creates in the root namespace
# (<short>h0, at most 15 characters): NAME itself when short enough, else a prefix plus a hash.
short_name() {
  local name=$1
  if ((${#name} <= 13)); then
    echo "$name"
  else
    printf '%s%05x\n' "${name:0:8}" $(($(cksum <<<"$name" | cut -d' ' -f1) % 1048576))
  fi
}

# Loads STATE (a directory holding testbed.env, or the file itself) into TESTBED_* variables.
load_state() {
  local file=$1
  [[ -d $file ]] && file=$file/testbed.env
  [[ -f $file ]] || die "no test bed state at $1"
  # shellcheck source=/dev/null
  source "$file"
}

node_pid() {
  local var="TESTBED_NODE_${1}_PID"
  [[ $1 =~ ^[0-9]+$ && -n ${!var:-} ]] || die "no node $1 in test bed ${TESTBED_NAME:-?}"
  kill -0 "${!var}" 2>/dev/null || die "node $1's holder (pid ${!var}) is gone"
  echo "${!var}"
}

ip_to_int() {
  local a b c d
  IFS=. read -r a b c d <<<"$1"
  echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

# Picks 10.A.B.0/24 overlapping no IPv4 route (any table) or address of this machine; prints
# "A B". Called with the lock held, and the caller puts 10.A.B.1 on a root interface before
# releasing it, so concurrent beds never get the same subnet.
pick_subnet() {
  local used=() word net len cand l mask try a b clash
  for word in $(ip -4 route show table all; ip -4 -o addr show); do
    if [[ $word =~ ^([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)(/([0-9]+))?$ ]]; then
      used+=("${BASH_REMATCH[1]}/${BASH_REMATCH[3]:-32}")
    fi
  done
  for ((try = 0; try < 200; try++)); do
    a=$((100 + RANDOM % 150))
    b=$((RANDOM % 256))
    cand=$(((10 << 24) | (a << 16) | (b << 8)))
    clash=0
    for word in "${used[@]}"; do
      net=$(ip_to_int "${word%/*}")
      len=${word#*/}
      ((len == 0)) && continue  # the default route overlaps everything
      l=$((len < 24 ? len : 24))
      mask=$(((0xffffffff << (32 - l)) & 0xffffffff))
      if (((cand & mask) == (net & mask))); then
        clash=1
        break
      fi
    done
    if ((!clash)); then
      echo "$a $b"
      return 0
    fi
  done
  die "found no free 10.x.y.0/24"
}

cmd_check() {
  local why="" probe="obprobe$$" cmd
  if (($(id -u) != 0)); then
    why="not root (network namespaces need root)"
  else
    for cmd in ip unshare nsenter setsid flock hostname; do
      if ! command -v "$cmd" >/dev/null 2>&1; then
        why="'$cmd' is not installed"
        break
      fi
    done
  fi
  if [[ -z $why ]]; then
    if ! ip netns add "$probe" 2>/dev/null; then
      why="'ip netns add' failed (no permission to make network namespaces here?)"
    elif ! ip -n "$probe" link add br0 type bridge 2>/dev/null; then
      why="cannot make a Linux bridge in a network namespace"
    elif ! ip -n "$probe" link add v0 type veth peer name v1 2>/dev/null; then
      why="cannot make a veth pair in a network namespace"
    elif ! ip netns exec "$probe" unshare --uts -- true 2>/dev/null; then
      why="cannot make a UTS namespace (unshare --uts)"
    fi
    ip netns del "$probe" 2>/dev/null || true
  fi
  if [[ -n $why ]]; then
    echo "SKIP: $why"
    exit 77
  fi
  echo "test bed: network namespaces available"
}

# What `up` has made so far, undone by up_cleanup when it fails halfway.
made_ns=()
made_links=()
made_pids=()
made_dir=""
up_done=0

up_cleanup() {
  ((up_done)) && return 0
  ((${#made_ns[@]} + ${#made_links[@]} + ${#made_pids[@]})) || [[ -n $made_dir ]] || return 0
  local pid ns link
  for pid in "${made_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for link in "${made_links[@]}"; do ip link del "$link" 2>/dev/null || true; done
  for ns in "${made_ns[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  [[ -z $made_dir ]] || rm -rf "$made_dir"
  echo "testbed: 'up' failed; removed what it had made" >&2
}

cmd_up() {
  (($# >= 2 && $# <= 3)) || usage
  local name=$1 k=$2 state_dir=${3:-${TMPDIR:-/tmp}/openbatch-testbed-$1}
  valid_name "$name"
  if ! [[ $k =~ ^[0-9]+$ ]] || ((k < 1 || k > 200)); then
    die "node count must be 1..200, got '$k'"
  fi
  local short hub host_link a b i ns node_ip pid want inode
  short=$(short_name "$name")
  hub=$name-hub
  host_link=${short}h0
  trap up_cleanup EXIT
  trap 'exit 1' INT TERM HUP
  if [[ ! -d $state_dir ]]; then
    mkdir -p "$state_dir"
    made_dir=$(cd "$state_dir" && pwd)
  fi
  state_dir=$(cd "$state_dir" && pwd)
  if [[ -e $state_dir/testbed.env ]]; then
    # Left by a bed that is gone (its hub namespace with it): stale, overwritten below.
    local other
    other=$(sed -n 's/^TESTBED_HUB=//p' "$state_dir/testbed.env")
    [[ -z $other || ! -e /run/netns/$other ]] || die "$state_dir holds the state of live bed $other"
  fi

  local lock_fd
  exec {lock_fd}>"$lock_file"
  flock -w 30 "$lock_fd" || die "timed out waiting for $lock_file"
  # The hub namespace is the claim on NAME: `ip netns add` fails when it already exists.
  ip netns add "$hub" 2>/dev/null || die "test bed '$name' already exists (namespace $hub)"
  made_ns+=("$hub")
  for ((i = 0; i < k; i++)); do
    [[ ! -e /run/netns/$name-$i ]] || die "namespace $name-$i already exists"
  done
  ! ip link show "$host_link" >/dev/null 2>&1 || die "interface $host_link already exists"
  read -r a b < <(pick_subnet)
  [[ -n ${b:-} ]] || die "could not pick a subnet"
  ip link add "$host_link" type veth peer name up0 netns "$hub"
  made_links+=("$host_link")
  ip addr add "10.$a.$b.1/24" dev "$host_link"
  ip link set "$host_link" up
  flock -u "$lock_fd"
  exec {lock_fd}>&-

  ip -n "$hub" link set lo up
  ip -n "$hub" link add br0 type bridge
  ip -n "$hub" link set up0 master br0
  ip -n "$hub" link set up0 up
  ip -n "$hub" link set br0 up

  for ((i = 0; i < k; i++)); do
    ns=$name-$i
    ip netns add "$ns"
    made_ns+=("$ns")
    ip -n "$ns" link set lo up
    ip -n "$ns" link add eth0 type veth peer name "n$i" netns "$hub"
    ip -n "$ns" addr add "10.$a.$b.$((10 + i))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$hub" link set "n$i" master br0
    ip -n "$hub" link set "n$i" up
    # The holder: `ip netns exec` and `unshare` exec in place, so $! ends up as `sleep`.
    # shellcheck disable=SC2016 # $1 is the inner sh's argument
    setsid ip netns exec "$ns" unshare --uts -- \
      sh -c 'hostname "$1" && exec sleep infinity' holder "$name-node-$i" \
      </dev/null >/dev/null 2>&1 &
    made_pids+=("$!")
  done

  # Wait until every holder is in its namespaces with its hostname set.
  for ((i = 0; i < k; i++)); do
    pid=${made_pids[i]}
    want=$name-node-$i
    inode=$(stat -L -c %i "/run/netns/$name-$i")
    local deadline=$((SECONDS + 10))
    until [[ $(readlink "/proc/$pid/ns/net" 2>/dev/null) == "net:[$inode]" &&
      $(nsenter -t "$pid" -u hostname 2>/dev/null) == "$want" ]]; do
      kill -0 "$pid" 2>/dev/null || die "holder of $name-$i (pid $pid) exited"
      ((SECONDS < deadline)) || die "holder of $name-$i (pid $pid) did not set up in 10 s"
      sleep 0.02
    done
  done

  local env_tmp json_tmp
  env_tmp=$(mktemp "$state_dir/.testbed.env.XXXXXX")
  json_tmp=$(mktemp "$state_dir/.testbed.json.XXXXXX")
  {
    echo "# test bed state written by $self up"
    echo "TESTBED_NAME=$name"
    echo "TESTBED_SHORT=$short"
    echo "TESTBED_NODES=$k"
    echo "TESTBED_SUBNET=10.$a.$b.0/24"
    echo "TESTBED_HOST_ADDRESS=10.$a.$b.1"
    echo "TESTBED_HOST_LINK=$host_link"
    echo "TESTBED_HUB=$hub"
    echo "TESTBED_STATE_DIR=$state_dir"
    for ((i = 0; i < k; i++)); do
      echo "TESTBED_NODE_${i}_NAMESPACE=$name-$i"
      echo "TESTBED_NODE_${i}_HOSTNAME=$name-node-$i"
      echo "TESTBED_NODE_${i}_IP=10.$a.$b.$((10 + i))"
      echo "TESTBED_NODE_${i}_PID=${made_pids[i]}"
    done
  } >"$env_tmp"
  {
    printf '{\n  "name": "%s",\n  "short": "%s",\n  "subnet": "10.%s.%s.0/24",\n' \
      "$name" "$short" "$a" "$b"
    printf '  "hostAddress": "10.%s.%s.1",\n  "hostLink": "%s",\n  "hub": "%s",\n' \
      "$a" "$b" "$host_link" "$hub"
    printf '  "stateDir": "%s",\n  "nodes": [\n' "$state_dir"
    for ((i = 0; i < k; i++)); do
      node_ip=10.$a.$b.$((10 + i))
      printf '    {"index": %d, "namespace": "%s", "hostname": "%s", "ip": "%s", "holderPid": %d}%s\n' \
        "$i" "$name-$i" "$name-node-$i" "$node_ip" "${made_pids[i]}" "$( ((i + 1 < k)) && echo ,)"
    done
    printf '  ]\n}\n'
  } >"$json_tmp"
  mv "$json_tmp" "$state_dir/testbed.json"
  mv "$env_tmp" "$state_dir/testbed.env"
  up_done=1
  trap - EXIT INT TERM HUP
  echo "$state_dir/testbed.env"
}

cmd_exec() {
  (($# >= 3)) || usage
  load_state "$1"
  local pid
  pid=$(node_pid "$2")
  shift 2
  exec nsenter -t "$pid" -n -u -- "$@"
}

cmd_rsh() {
  # Skip ssh-style options the launcher may put before the host.
  while (($#)) && [[ $1 == -* ]]; do
    case $1 in
      -[lpioFJ]) shift 2 ;;
      *) shift ;;
    esac
  done
  (($# >= 2)) || die "rsh: usage: testbed.sh rsh HOST CMD... (with OPENBATCH_TESTBED_STATE set)"
  [[ -n ${OPENBATCH_TESTBED_STATE:-} ]] || die "rsh: OPENBATCH_TESTBED_STATE is not set"
  load_state "$OPENBATCH_TESTBED_STATE"
  local host=$1 i var_ip var_host var_ns found=""
  shift
  for ((i = 0; i < TESTBED_NODES; i++)); do
    var_ip="TESTBED_NODE_${i}_IP"
    var_host="TESTBED_NODE_${i}_HOSTNAME"
    var_ns="TESTBED_NODE_${i}_NAMESPACE"
    if [[ $host == "${!var_ip}" || $host == "${!var_host}" || $host == "${!var_ns}" ]]; then
      found=$i
      break
    fi
  done
  [[ -n $found ]] || die "rsh: host '$host' is not a node of test bed $TESTBED_NAME"
  local pid
  pid=$(node_pid "$found")
  exec nsenter -t "$pid" -n -u -- /bin/sh -c "$*"
}

cmd_down() {
  (($# == 1)) || usage
  local name short state_dir=""
  if [[ -d $1 || -f $1 ]]; then
    load_state "$1"
    name=$TESTBED_NAME
    short=$TESTBED_SHORT
    state_dir=$TESTBED_STATE_DIR
  else
    valid_name "$1"
    name=$1
    short=$(short_name "$name")
    # The default state directory, when it holds this bed's state.
    local default_dir=${TMPDIR:-/tmp}/openbatch-testbed-$name
    if grep -qx "TESTBED_NAME=$name" "$default_dir/testbed.env" 2>/dev/null; then
      state_dir=$default_dir
    fi
  fi
  local ns pid namespaces=()
  while read -r ns _; do
    [[ $ns =~ ^$name-(hub|[0-9]+)$ ]] && namespaces+=("$ns")
  done < <(ip netns list 2>/dev/null)
  # Everything running in the bed (holders, and whatever was started in a node) goes first.
  for ns in "${namespaces[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  done
  # Deleting one end of a veth pair deletes both; the rest go with their namespaces.
  ip link del "${short}h0" 2>/dev/null || true
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if [[ -n $state_dir ]]; then
    rm -f "$state_dir/testbed.env" "$state_dir/testbed.json"
    rmdir "$state_dir" 2>/dev/null || true
  fi
  for ns in "${namespaces[@]}"; do
    [[ ! -e /run/netns/$ns ]] || die "down: namespace $ns is still there"
  done
  ! ip link show "${short}h0" >/dev/null 2>&1 || die "down: interface ${short}h0 is still there"
}

(($#)) || usage
sub=$1
shift
case $sub in
  check) cmd_check "$@" ;;
  up) cmd_up "$@" ;;
  exec) cmd_exec "$@" ;;
  rsh) cmd_rsh "$@" ;;
  down) cmd_down "$@" ;;
  *) usage ;;
esac
