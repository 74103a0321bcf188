#!/usr/bin/env bash
# start_tasks/enable-mps.sh (no GPU, then fake nvidia-smi / nvidia-cuda-mps-control) and
# start_tasks/install-mpi.sh --verify-only (the Open MPI + UCX that .ci/install-deps.sh installs;
# then a PATH without them). Nothing here installs packages.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mps=$repo/start_tasks/enable-mps.sh
mpi=$repo/start_tasks/install-mpi.sh

# A PATH of the basic tools only, so that a real nvidia-smi or mpirun cannot be found.
mkdir -p "$tmp/base"
for tool in bash sh cat sed grep head tr basename dirname mkdir mkfifo rm sleep awk env; do
  path=$(command -v "$tool") || continue
  ln -s "$path" "$tmp/base/$tool"
done
base_path=$tmp/base

run help "$mps" --help
expect_status 0 "enable-mps.sh --help"
expect_match "$out" 'nvidia-cuda-mps-control -d' "--help explains what it starts"

run nogpu env PATH="$base_path" "$mps"
expect_status 1 "enable-mps.sh without nvidia-smi"
expect_match "$err" 'nvidia-smi not found: no NVIDIA driver on this node' "says there is no driver"
expect_one_line_error "no nvidia-smi"

run badpct "$mps" --percentage 150
expect_status 2 "--percentage 150"

# Fakes: nvidia-smi lists two GPUs (or fails with FAKE_SMI_FAIL); nvidia-cuda-mps-control -d
# makes the control pipe and logs each start; commands on stdin need the pipe.
mkdir -p "$tmp/fake"
cat >"$tmp/fake/nvidia-smi" <<'SMI'
#!/bin/sh
if [ -n "${FAKE_SMI_FAIL:-}" ]; then
  echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
  exit 9
fi
case "$1" in
  -L) echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-6513270e-269e-0d37-f2a7-4de452e6b438)"
      echo "GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-d23f0824-128b-2f33-0c5c-7fd0a6a3a450)" ;;
  -c) echo "compute mode $2" >>"$FAKE_LOG" ;;
  *) exit 1 ;;
esac
SMI
cat >"$tmp/fake/nvidia-cuda-mps-control" <<'CTL'
#!/bin/sh
if [ "${1:-}" = "-d" ]; then
  mkfifo "$CUDA_MPS_PIPE_DIRECTORY/control"
  echo "daemon started" >>"$FAKE_LOG"
  exit 0
fi
[ -p "$CUDA_MPS_PIPE_DIRECTORY/control" ] || { echo "Cannot find MPS control daemon process"; exit 1; }
read -r command
echo "command $command" >>"$FAKE_LOG"
[ "$command" = quit ] && rm -f "$CUDA_MPS_PIPE_DIRECTORY/control"
exit 0
CTL
chmod +x "$tmp/fake/nvidia-smi" "$tmp/fake/nvidia-cuda-mps-control"
export FAKE_LOG=$tmp/fake.log
touch "$FAKE_LOG"
mps_env=(env PATH="$tmp/fake:$base_path" FAKE_LOG="$FAKE_LOG")
mps_dirs=(--pipe-dir "$tmp/pipe" --log-dir "$tmp/mpslog")

run nodriver "${mps_env[@]}" FAKE_SMI_FAIL=1 "$mps" "${mps_dirs[@]}"
expect_status 1 "nvidia-smi that cannot talk to the driver"
expect_match "$err" "nvidia-smi cannot talk to the driver: NVIDIA-SMI has failed" "quotes nvidia-smi"

run start "${mps_env[@]}" "$mps" "${mps_dirs[@]}" --exclusive --percentage 50
expect_status 0 "enable-mps.sh starts the daemon"
expect_match "$out" 'MPS control daemon started .*2 GPU\(s\)' "reports the start"
expect_match "$(cat "$FAKE_LOG")" 'compute mode EXCLUSIVE_PROCESS' "--exclusive sets the compute mode"
expect_match "$(cat "$FAKE_LOG")" 'command set_default_active_thread_percentage 50' "--percentage is applied"

run again "${mps_env[@]}" "$mps" "${mps_dirs[@]}"
expect_status 0 "second run"
expect_match "$out" 'already running' "second run finds it running"
checks=$((checks + 1))
[[ $(grep -c 'daemon started' "$FAKE_LOG") == 1 ]] || fail "the daemon was started again"

run stop "${mps_env[@]}" "$mps" "${mps_dirs[@]}" --stop
expect_status 0 "--stop"
expect_match "$(cat "$FAKE_LOG")" 'command quit' "--stop sends quit"

# install-mpi.sh
run mpihelp "$mpi" --help
expect_status 0 "install-mpi.sh --help"
expect_match "$out" '--verify-only' "--help lists --verify-only"
if command -v mpirun >/dev/null 2>&1 && command -v ompi_info >/dev/null 2>&1; then
  run verify "$mpi" --verify-only
  expect_status 0 "install-mpi.sh --verify-only on this machine"
  expect_match "$out" 'Open MPI' "reports the Open MPI version"
  if ompi_info 2>/dev/null | grep -Eq 'MCA pml:[[:space:]]+ucx' && command -v ucx_info >/dev/null 2>&1; then
    expect_match "$out" 'UCX [0-9]+\.[0-9]+.*pml ucx available' "reports UCX"
    run verify_ucx "$mpi" --verify-only --require-ucx
    expect_status 0 "--require-ucx with UCX present"
  fi
else
  echo "note: no Open MPI here, skipping the positive install-mpi.sh check"
fi
run nompi env PATH="$base_path" "$mpi" --verify-only
expect_status 1 "--verify-only without Open MPI"
expect_match "$err" 'Open MPI is not installed' "says Open MPI is missing"
expect_one_line_error "no Open MPI"

# Open MPI without the UCX pml: a warning, or a failure with --require-ucx.
cat >"$tmp/fake/mpirun" <<'RUN'
#!/bin/sh
echo "mpirun (Open MPI) 4.1.4"
RUN
cat >"$tmp/fake/ompi_info" <<'INFO'
#!/bin/sh
echo "                 MCA pml: ob1 (MCA v2.1.0, API v2.0.0, Component v4.1.4)"
INFO
chmod +x "$tmp/fake/mpirun" "$tmp/fake/ompi_info"
run noucx env PATH="$tmp/fake:$base_path" "$mpi" --verify-only
expect_status 0 "no UCX pml is a warning"
expect_match "$err" 'warning: Open MPI has no UCX pml' "warns about TCP"
run noucx2 env PATH="$tmp/fake:$base_path" "$mpi" --verify-only --require-ucx
expect_status 1 "no UCX pml with --require-ucx"
finish
