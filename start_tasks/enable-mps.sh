#!/usr/bin/env bash
# enable-mps.sh: starts the CUDA MPS (Multi-Process Service) control daemon so that several
# tasks can share each GPU, for a pool's start task (run it as root: admin auto-user).
#
#   enable-mps.sh [--percentage N] [--exclusive] [--pipe-dir DIR] [--log-dir DIR]
#   enable-mps.sh --stop [--pipe-dir DIR]
#
# Starts `nvidia-cuda-mps-control -d` with its pipe directory $CUDA_MPS_PIPE_DIRECTORY (default
# /tmp/nvidia-mps, where CUDA clients look by default) and its log directory
# $CUDA_MPS_LOG_DIRECTORY (default /var/log/nvidia-mps); --pipe-dir and --log-dir override them.
# Tasks that set another pipe directory must export the same CUDA_MPS_PIPE_DIRECTORY.
# --exclusive first sets every GPU's compute mode to EXCLUSIVE_PROCESS (`nvidia-smi -c`), as
# NVIDIA recommends with MPS. --percentage N (1-100) sets the default active thread
# percentage each MPS client gets (set_default_active_thread_percentage).
# Idempotent: a control daemon that already answers is left running. Verified with
# `echo get_server_list | nvidia-cuda-mps-control`. --stop asks the daemon to quit.
# MPS serves one Linux user at a time: run the tasks that share the GPUs as the same user.
# Exit status: 0 running (or stopped); 1 failed (one line on stderr); 2 bad usage.
set -euo pipefail

prog=$(basename "$0")

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
die() { echo "$prog: $*" >&2; exit 1; }
usage_error() { echo "$prog: $* (try --help)" >&2; exit 2; }
say() { echo "$prog: $*"; }

percentage=""
exclusive=0
stop=0
pipe_dir=${CUDA_MPS_PIPE_DIRECTORY:-/tmp/nvidia-mps}
log_dir=${CUDA_MPS_LOG_DIRECTORY:-/var/log/nvidia-mps}
while (($#)); do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --percentage) (($# >= 2)) || usage_error "--percentage needs a number"; percentage=$2; shift ;;
    --percentage=*) percentage=${1#*=} ;;
    --exclusive) exclusive=1 ;;
    --stop) stop=1 ;;
    --pipe-dir) (($# >= 2)) || usage_error "--pipe-dir needs a directory"; pipe_dir=$2; shift ;;
    --pipe-dir=*) pipe_dir=${1#*=} ;;
    --log-dir) (($# >= 2)) || usage_error "--log-dir needs a directory"; log_dir=$2; shift ;;
    --log-dir=*) log_dir=${1#*=} ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
  shift
done
if [[ -n $percentage ]] && { ! [[ $percentage =~ ^[0-9]+$ ]] || ((percentage < 1 || percentage > 100)); }; then
  usage_error "--percentage must be 1-100, not '$percentage'"
fi
export CUDA_MPS_PIPE_DIRECTORY=$pipe_dir CUDA_MPS_LOG_DIRECTORY=$log_dir

control() { printf '%s\n' "$1" | nvidia-cuda-mps-control; }
daemon_answers() { [[ -p $pipe_dir/control ]] && control get_server_list >/dev/null 2>&1; }

command -v nvidia-cuda-mps-control >/dev/null 2>&1 || {
  command -v nvidia-smi >/dev/null 2>&1 \
    || die "nvidia-smi not found: no NVIDIA driver on this node (install one first, e.g. install-nvidia-driver.sh)"
  die "nvidia-cuda-mps-control not found: the NVIDIA driver's utilities are incomplete (install the driver's MPS utilities)"
}

if ((stop)); then
  if daemon_answers; then
    control quit >/dev/null || die "the MPS control daemon did not accept quit"
    say "MPS control daemon stopped"
  else
    say "no MPS control daemon answers on $pipe_dir"
  fi
  exit 0
fi

command -v nvidia-smi >/dev/null 2>&1 \
  || die "nvidia-smi not found: no NVIDIA driver on this node (install one first, e.g. install-nvidia-driver.sh)"
gpus=$(nvidia-smi -L 2>&1) || die "nvidia-smi cannot talk to the driver: $(head -n 1 <<<"$gpus")"
count=$(grep -c '^GPU [0-9]' <<<"$gpus" || true)
((count > 0)) || die "no NVIDIA GPU on this node (nvidia-smi -L lists none)"

if daemon_answers; then
  say "MPS control daemon already running ($pipe_dir), $count GPU(s)"
else
  if ((exclusive)); then
    nvidia-smi -c EXCLUSIVE_PROCESS >/dev/null || die "nvidia-smi -c EXCLUSIVE_PROCESS failed (is this root?)"
    say "compute mode EXCLUSIVE_PROCESS on $count GPU(s)"
  fi
  mkdir -p "$pipe_dir" "$log_dir" || die "cannot create $pipe_dir or $log_dir"
  # Start from / with no inherited descriptors, so that the daemon holds neither the start
  # task's directory nor its stdout/stderr files.
  (cd / && nvidia-cuda-mps-control -d </dev/null >/dev/null 2>&1) \
    || die "nvidia-cuda-mps-control -d failed (see $log_dir/control.log)"
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    daemon_answers && break
    sleep 0.5
  done
  daemon_answers || die "the MPS control daemon does not answer on $pipe_dir/control (see $log_dir/control.log)"
  say "MPS control daemon started ($pipe_dir, logs in $log_dir), $count GPU(s)"
fi

if [[ -n $percentage ]]; then
  control "set_default_active_thread_percentage $percentage" >/dev/null \
    || die "set_default_active_thread_percentage $percentage failed"
  say "default active thread percentage $percentage"
fi
