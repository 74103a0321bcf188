#!/usr/bin/env bash
# Installs the Debian 12 packages OpenBatch needs to build, test and run -- only those missing.
# Idempotent: a machine that already has everything runs no apt-get at all.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libboost1.81-dev libboost-url1.81-dev libsqlite3-dev sqlite3 nlohmann-json3-dev libgtest-dev
  libgmock-dev openmpi-bin libopenmpi-dev libucx-dev ucx-utils libssl-dev libarchive-dev
  libspdlog-dev libcli11-dev iproute2 curl procps nodejs npm zip unzip shellcheck
  clang libclang-rt-14-dev clang-format python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# nodejs/npm: any working node >= 18 will do (the image may ship its own outside apt).
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do
    [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p")
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
