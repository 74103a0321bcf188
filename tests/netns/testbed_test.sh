#!/usr/bin/env bash
# integration_netns_testbed: brings up a 3-node test bed (testbed.sh), checks the nodes are
# separate hosts (hostnames, addresses, interfaces), that they reach each other and the root
# namespace over the bridge, that `testbed.sh rsh` behaves like ssh, runs mpi_hello across the
# three nodes with a direct mpirun when BUILD_DIR/mpi_examples/mpi_hello exists, and that
# `down` leaves nothing behind. Skips (77) where namespaces cannot be made (not root, ...).
#
#   testbed_test.sh [BUILD_DIR]
# shellcheck source-path=SCRIPTDIR source=../integration/scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../integration/scripts/lib.sh"

testbed=$repo/tests/netns/testbed.sh
build_dir=${1:-$repo/build}

status=0
check_out=$("$testbed" check) || status=$?
if ((status == 77)); then
  echo "$check_out"
  exit 77
fi
((status == 0)) || { echo "FAIL: testbed.sh check: status $status: $check_out" >&2; exit 1; }

name=nt$$r$RANDOM
state_dir=$tmp/bed
# shellcheck disable=SC2064 # expand now: the names are fixed
trap "'$testbed' down '$name' || true; rm -rf '$tmp'" EXIT
trap 'exit 1' INT TERM HUP

run up "$testbed" up "$name" 3 "$state_dir"
expect_status 0 "up $name 3"
if ((status)); then finish; fi
expect_match "$out" "^$state_dir/testbed.env$" "up prints the state file"
# shellcheck source=/dev/null
source "$state_dir/testbed.env"
expect_match "$TESTBED_SUBNET" '^10\.[0-9]+\.[0-9]+\.0/24$' "subnet $TESTBED_SUBNET"
expect_match "$TESTBED_HOST_ADDRESS" "^${TESTBED_SUBNET%.0/24}\.1$" "host address"
checks=$((checks + 1))
if ip -4 -o addr show dev "$TESTBED_HOST_LINK" | grep -q " $TESTBED_HOST_ADDRESS/24 "; then
  pass "root end $TESTBED_HOST_LINK has $TESTBED_HOST_ADDRESS"
else
  fail "root end $TESTBED_HOST_LINK lacks $TESTBED_HOST_ADDRESS"
fi
if command -v node >/dev/null 2>&1; then
  run json node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1]));
    process.stdout.write([s.subnet, s.hostAddress, ...s.nodes.map((n) => n.ip)].join(","))' \
    "$state_dir/testbed.json"
  expect_match "$out" "^$TESTBED_SUBNET,$TESTBED_HOST_ADDRESS,$TESTBED_NODE_0_IP,$TESTBED_NODE_1_IP,$TESTBED_NODE_2_IP$" \
    "testbed.json agrees with testbed.env"
fi

# Three hosts: their own hostnames, addresses and interfaces.
ips=()
for i in 0 1 2; do
  run "host$i" "$testbed" exec "$state_dir" "$i" hostname
  expect_status 0 "exec $i hostname"
  expect_match "$out" "^$name-node-$i$" "node $i's hostname is $name-node-$i"
  ip_var=TESTBED_NODE_${i}_IP
  ips+=("${!ip_var}")
  run "addr$i" "$testbed" exec "$state_dir" "$i" ip -4 -o addr show dev eth0
  expect_match "$out" " ${!ip_var}/24 " "node $i's eth0 has ${!ip_var}/24"
  run "links$i" "$testbed" exec "$state_dir" "$i" ip -o link show
  expect_match "$(awk -F': ' '{print $2}' <<<"$out" | sed 's/@.*//' | sort | tr '\n' ' ')" \
    '^eth0 lo $' "node $i sees only lo and eth0"
done

# Reachability. A TCP connect to a closed port that is refused proves the peer answered (its
# kernel sent the RST); with ping installed, ICMP echo is checked too.
reach() {  # reach I ADDRESS
  "$testbed" exec "$state_dir" "$1" timeout 3 bash -c "exec 3<>/dev/tcp/$2/9" 2>&1 | tail -n1
}
for i in 0 1 2; do
  for target in "${ips[@]}" "$TESTBED_HOST_ADDRESS"; do
    [[ $target == "${ips[i]}" ]] && continue
    expect_match "$(reach "$i" "$target")" "Connection refused" "node $i reaches $target"
    if command -v ping >/dev/null 2>&1; then
      run ping "$testbed" exec "$state_dir" "$i" ping -c1 -W1 "$target"
      expect_status 0 "node $i pings $target"
    fi
  done
done

# rsh: the words joined into one sh -c command, as sshd does; the status comes back.
OPENBATCH_TESTBED_STATE=$state_dir run rsh "$testbed" rsh "${ips[1]}" 'hostname;' exit 3
expect_status 3 "rsh ${ips[1]} 'hostname; exit 3'"
expect_match "$out" "^$name-node-1$" "rsh ran on node 1"
# shellcheck disable=SC2016 # expanded by the remote sh
OPENBATCH_TESTBED_STATE=$state_dir run rsh2 "$testbed" rsh "$name-node-2" echo '"$((20 + 22))"'
expect_match "$out" "^42$" "rsh by hostname runs the command through sh"
OPENBATCH_TESTBED_STATE=$state_dir run rsh3 "$testbed" rsh 192.0.2.99 true
expect_status nonzero "rsh to a host outside the bed"

# Direct mpirun across the three nodes, from node 0.
hello=$build_dir/mpi_examples/mpi_hello
if [[ -x $hello ]] && command -v mpirun >/dev/null 2>&1; then
  rx_bytes() {  # rx_bytes I: bytes received on node I's eth0
    "$testbed" exec "$state_dir" "$1" cat /proc/net/dev | awk '$1 == "eth0:" {print $2}'
  }
  rx1=$(rx_bytes 1)
  rx2=$(rx_bytes 2)
  started=$(date +%s%N)
  OPENBATCH_TESTBED_STATE=$state_dir OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    OMPI_MCA_plm_rsh_agent="$testbed rsh" OMPI_MCA_pml=ob1 OMPI_MCA_btl=tcp,self \
    OMPI_MCA_btl_tcp_if_include=$TESTBED_SUBNET OMPI_MCA_oob_tcp_if_include=$TESTBED_SUBNET \
    OMPI_MCA_mpi_yield_when_idle=1 \
    run mpirun "$testbed" exec "$state_dir" 0 timeout 60 mpirun -np 3 \
    -host "$(IFS=,; echo "${ips[*]}")" --map-by node "$hello"
  echo "mpirun across 3 nodes: $((($(date +%s%N) - started) / 1000000)) ms"
  expect_status 0 "mpirun -np 3 mpi_hello across the bed"
  for i in 0 1 2; do
    expect_match "$out" "^hello from rank [0-2] of 3 on $name-node-$i$" "a rank ran on $name-node-$i"
  done
  expect_match "$out" "^ranks: 3, distinct hosts: 3$" "mpi_hello counts 3 distinct hosts"
  checks=$((checks + 1))
  if (($(rx_bytes 1) > rx1 && $(rx_bytes 2) > rx2)); then
    pass "the run's traffic crossed the nodes' veths"
  else
    fail "no traffic on the nodes' eth0 during the run"
  fi
else
  echo "note: $hello or mpirun missing; the direct mpirun check is skipped"
fi

# down: nothing of the bed is left, and a second down is fine.
holders=("$TESTBED_NODE_0_PID" "$TESTBED_NODE_1_PID" "$TESTBED_NODE_2_PID")
run down "$testbed" down "$state_dir"
expect_status 0 "down $state_dir"
expect_no_match "$(ip netns list)" "^$name-" "no namespace of the bed is left"
expect_no_match "$(ip -o link show)" ": ${TESTBED_HOST_LINK}[@:]" "no interface of the bed is left"
expect_no_match "$(ls "$state_dir" 2>/dev/null)" "testbed" "the state files are gone"
for pid in "${holders[@]}"; do
  checks=$((checks + 1))
  if [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == */sleep ]]; then
    fail "holder $pid still runs"
  else
    pass "holder $pid is gone"
  fi
done
run down2 "$testbed" down "$name"
expect_status 0 "a second down is a no-op"
finish
