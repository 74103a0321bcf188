#!/usr/bin/env bash
# install-mpi.sh: makes sure Open MPI with UCX is installed and works, for a pool's start task
# before multi-instance (MPI) tasks (installing needs root: admin auto-user).
#
#   install-mpi.sh [--verify-only] [--require-ucx]
#
# Installs what is missing -- Debian/Ubuntu: openmpi-bin libopenmpi-dev ucx-utils (apt-get);
# RHEL-like: openmpi openmpi-devel ucx (dnf/yum) -- then verifies:
#   * `mpirun --version` runs and is Open MPI (required);
#   * `ompi_info` lists the ucx pml (MCA pml: ucx) and `ucx_info -v` runs.
# Without UCX, Open MPI still runs over TCP (pml ob1), only not over InfiniBand: that is a
# warning, and a failure with --require-ucx (use it on RDMA pools).
# Open MPI outside PATH is found where the images keep it: /usr/lib64/openmpi/bin (RHEL),
# /opt/openmpi*/bin and /opt/hpcx*/ompi/bin (HPC images). Tasks need the same PATH.
# --verify-only installs nothing (no package manager runs).
# Exit status: 0 ok; 1 missing or broken (one line on stderr); 2 bad usage.
set -euo pipefail

prog=$(basename "$0")

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
die() { echo "$prog: $*" >&2; exit 1; }
warn() { echo "$prog: warning: $*" >&2; }
usage_error() { echo "$prog: $* (try --help)" >&2; exit 2; }
say() { echo "$prog: $*"; }

verify_only=0
require_ucx=0
while (($#)); do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --verify-only) verify_only=1 ;;
    --require-ucx) require_ucx=1 ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
  shift
done

# Puts the first Open MPI found outside PATH on PATH.
find_mpi() {
  command -v mpirun >/dev/null 2>&1 && return 0
  local dir
  for dir in /usr/lib64/openmpi/bin /opt/openmpi*/bin /opt/hpcx*/ompi/bin; do
    if [[ -x $dir/mpirun ]]; then
      PATH=$dir:$PATH
      say "using Open MPI in $dir (not on the default PATH: tasks must add it)"
      return 0
    fi
  done
  return 1
}

missing() {  # prints what is missing: mpi, ucx
  find_mpi || echo mpi
  command -v ucx_info >/dev/null 2>&1 || echo ucx
}

install_packages() {
  local pkgs
  if command -v apt-get >/dev/null 2>&1; then
    pkgs=(openmpi-bin libopenmpi-dev ucx-utils)
    say "installing ${pkgs[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${pkgs[@]}" || die "apt-get install ${pkgs[*]} failed"
  elif command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then
    local pm=dnf
    command -v dnf >/dev/null 2>&1 || pm=yum
    pkgs=(openmpi openmpi-devel ucx)
    say "installing ${pkgs[*]} with $pm"
    "$pm" install -y "${pkgs[@]}" || die "$pm install ${pkgs[*]} failed"
  else
    die "Open MPI or UCX is missing and there is no apt-get, dnf or yum to install it"
  fi
}

absent=$(missing | tr '\n' ' ')
if [[ -n $absent ]]; then
  if ((verify_only)); then
    [[ $absent == *mpi* ]] && die "Open MPI is not installed (mpirun not found; run without --verify-only to install it)"
  else
    install_packages
    hash -r
  fi
fi

find_mpi || die "mpirun not found after installing Open MPI"
mpi_version=$(mpirun --version 2>&1 | head -n 1) || die "mpirun --version failed: $mpi_version"
[[ $mpi_version == *"Open MPI"* ]] || die "mpirun is not Open MPI: $mpi_version"
say "$mpi_version ($(command -v mpirun))"

ucx_problem=""
if ! command -v ompi_info >/dev/null 2>&1; then
  ucx_problem="ompi_info not found: cannot tell whether Open MPI has the UCX pml"
elif ! ompi_info 2>/dev/null | grep -Eq 'MCA pml:[[:space:]]+ucx'; then
  ucx_problem="Open MPI has no UCX pml (ompi_info): MPI runs over TCP (ob1), not InfiniBand"
elif ! command -v ucx_info >/dev/null 2>&1; then
  ucx_problem="ucx_info not found (install ucx-utils / ucx)"
elif ! ucx_version=$(ucx_info -v 2>&1); then
  ucx_problem="ucx_info -v failed: $(head -n 1 <<<"$ucx_version")"
else
  # "# Version 1.13.1" (1.13) or "# Library version: 1.15.0" (1.14 and later)
  ucx_version=$(sed -n 's/^# \(Library version:\|Version\) *//p' <<<"$ucx_version" | head -n 1)
  say "UCX ${ucx_version:-(version unknown)}, Open MPI pml ucx available"
fi
if [[ -n $ucx_problem ]]; then
  ((require_ucx)) && die "$ucx_problem"
  warn "$ucx_problem"
fi
say "ok"
