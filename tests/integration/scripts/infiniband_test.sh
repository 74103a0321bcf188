#!/usr/bin/env bash
# start_tasks/check-infiniband.sh against the sysfs fixtures (tests/fixtures/sysfs), with a fake
# `ip` for the IPoIB checks.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

script=$repo/start_tasks/check-infiniband.sh
sysfs=$repo/tests/fixtures/sysfs

# A fake `ip` first on PATH: no IPoIB address unless $FAKE_IPOIB is set.
mkdir -p "$tmp/bin"
cat >"$tmp/bin/ip" <<'IP'
#!/bin/sh
echo "1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever"
echo "2: eth0    inet 10.0.0.4/24 brd 10.0.0.255 scope global eth0\       valid_lft forever preferred_lft forever"
if [ -n "${FAKE_IPOIB:-}" ]; then
  echo "4: ib0    inet $FAKE_IPOIB brd 172.16.255.255 scope global ib0\       valid_lft forever preferred_lft forever"
fi
IP
chmod +x "$tmp/bin/ip"
export PATH=$tmp/bin:$PATH

run active "$script" --sysfs-root "$sysfs/ib_2port_active"
expect_status 0 "ib_2port_active passes"
expect_match "$out" 'mlx5_0 port 1: state 4: ACTIVE, physical 5: LinkUp, rate 200 Gb/sec \(4X HDR\), link layer InfiniBand' \
  "lists the active port"
expect_match "$out" 'mlx5_0 port 2: state 1: DOWN' "lists the down port"
expect_match "$out" '1 ACTIVE InfiniBand port\(s\), best mlx5_0 port 1 at 200 Gb/sec' "summary"
expect_match "$out" 'no IPoIB interface' "no IPoIB reported"

run rate_ok "$script" --sysfs-root "$sysfs/ib_2port_active" --min-rate-gbps 200
expect_status 0 "--min-rate-gbps 200 on HDR 200"

run rate_high "$script" --sysfs-root "$sysfs/ib_2port_active" --min-rate-gbps 400
expect_status 1 "--min-rate-gbps 400 on HDR 200"
expect_match "$err" 'no ACTIVE InfiniBand port at 400 Gb/sec or more \(best: mlx5_0 port 1 at 200 Gb/sec\)' \
  "names the best port"
expect_one_line_error "rate too low"

run edr "$script" --sysfs-root "$sysfs/ib_2hca_edr" --min-rate-gbps 100
expect_status 0 "ib_2hca_edr at 100"
expect_match "$out" '2 ACTIVE InfiniBand port\(s\)' "two active EDR ports"

run no_ib "$script" --sysfs-root "$sysfs/no_ib"
expect_status 1 "no_ib fails"
expect_match "$err" 'no InfiniBand device' "says there is no device"
expect_one_line_error "no_ib"

# Every port down: a copy of the fixture with port 1 DOWN too.
cp -r "$sysfs/ib_2port_active" "$tmp/down"
echo "1: DOWN" >"$tmp/down/class/infiniband/mlx5_0/ports/1/state"
run down "$script" --sysfs-root "$tmp/down"
expect_status 1 "all ports down fails"
expect_match "$err" 'no ACTIVE InfiniBand port among 2' "says no port is active"

# RoCE: an ACTIVE Ethernet port only counts with --allow-ethernet.
cp -r "$sysfs/ib_2port_active" "$tmp/roce"
echo "Ethernet" >"$tmp/roce/class/infiniband/mlx5_0/ports/1/link_layer"
run roce "$script" --sysfs-root "$tmp/roce"
expect_status 1 "an Ethernet port is not InfiniBand"
run roce2 "$script" --sysfs-root "$tmp/roce" --allow-ethernet
expect_status 0 "--allow-ethernet accepts RoCE"

run ipoib_missing "$script" --sysfs-root "$sysfs/ib_2port_active" --require-ipoib
expect_status 1 "--require-ipoib without ib0"
expect_match "$err" 'no IPoIB interface \(ib\*\) with an IPv4 address' "says IPoIB is missing"

FAKE_IPOIB=172.16.1.4/16 run ipoib "$script" --sysfs-root "$sysfs/ib_2port_active" --require-ipoib
expect_status 0 "--require-ipoib with ib0"
expect_match "$out" 'IPoIB ib0 172\.16\.1\.4/16' "reports the IPoIB address"

run bad_rate "$script" --min-rate-gbps fast
expect_status 2 "bad --min-rate-gbps"
run bad_root "$script" --sysfs-root "$tmp/nope"
expect_status 2 "missing --sysfs-root"
run help "$script" --help
expect_status 0 "--help"
expect_match "$out" '--min-rate-gbps' "--help shows the options"
finish
