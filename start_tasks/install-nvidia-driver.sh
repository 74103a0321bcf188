#!/usr/bin/env bash
# install-nvidia-driver.sh: installs NVIDIA driver VERSION on this node, for a pool's start task
# (run it as root: {"autoUser": {"scope": "pool", "elevationLevel": "admin"}}).
#
#   install-nvidia-driver.sh VERSION [--package-dir DIR] [--app-id ID] [--log FILE]
#   install-nvidia-driver.sh VERSION --distro
#
# Default: runs NVIDIA-Linux-x86_64-VERSION.run from the pool's application package (in DIR or
# one folder below it) silently. Without --package-dir, DIR is the package directory the node
# agent exports: $AZ_BATCH_APP_PACKAGE_<ID>_<VERSION with . - # as _>, then the all-lowercase
# spelling, then $AZ_BATCH_APP_PACKAGE_<ID> (the default version); ID is GPUDriver.
# --distro installs the distribution's driver instead (Debian: nvidia-driver; Ubuntu:
# nvidia-driver-<major>; RHEL-like: the nvidia-driver module stream <major>).
#
# Idempotent: when the driver already reports VERSION it says so and exits 0 without installing.
# Afterwards the driver must report exactly VERSION (a VERSION without a dot, e.g. 535, accepts
# any 535.x), otherwise it fails with "driver X found, VERSION required".
# The installed version comes from `nvidia-smi --query-gpu=driver_version`, or, when
# $OPENBATCH_GPU_INVENTORY names a file (fixture mode, see tests/fixtures/packages), from that
# JSON file's "gpuDriverVersion". The installer log goes to --log FILE, default
# $AZ_BATCH_NODE_STARTUP_DIR/nvidia-installer-VERSION.log, else /var/log/.
# Exit status: 0 installed or already there; 1 failed (one line on stderr); 2 bad usage.
set -euo pipefail

prog=$(basename "$0")

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
die() { echo "$prog: $*" >&2; exit 1; }
usage_error() { echo "$prog: $* (try --help)" >&2; exit 2; }
say() { echo "$prog: $*"; }

version=""
package_dir=""
app_id=GPUDriver
log_file=""
distro=0
while (($#)); do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --package-dir) (($# >= 2)) || usage_error "--package-dir needs a directory"; package_dir=$2; shift ;;
    --package-dir=*) package_dir=${1#*=} ;;
    --app-id) (($# >= 2)) || usage_error "--app-id needs an id"; app_id=$2; shift ;;
    --app-id=*) app_id=${1#*=} ;;
    --log) (($# >= 2)) || usage_error "--log needs a file"; log_file=$2; shift ;;
    --log=*) log_file=${1#*=} ;;
    --distro) distro=1 ;;
    -*) usage_error "unknown option '$1'" ;;
    *) [[ -z $version ]] || usage_error "one VERSION only ('$version', then '$1')"; version=$1 ;;
  esac
  shift
done
[[ -n $version ]] || usage_error "VERSION is required, e.g. $prog 535.104.05"
[[ $version =~ ^[0-9]+(\.[0-9]+)*$ ]] || usage_error "'$version' is not a driver version (digits and dots)"

inventory=${OPENBATCH_GPU_INVENTORY:-}

# The version the driver reports now, or "" when there is none.
installed_version() {
  if [[ -n $inventory ]]; then
    [[ -f $inventory ]] || return 0
    sed -n 's/.*"gpuDriverVersion"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$inventory" | head -n 1
    return 0
  fi
  if command -v nvidia-smi >/dev/null 2>&1; then
    local out
    if out=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null); then
      printf '%s\n' "$out" | head -n 1 | tr -d '[:space:]'
      return 0
    fi
  fi
  # The kernel module alone (nvidia-smi missing or unable to talk to it).
  if [[ -r /proc/driver/nvidia/version ]]; then
    sed -n 's/^NVRM version:.*Kernel Module[[:space:]]*\([0-9.]*\).*/\1/p' /proc/driver/nvidia/version | head -n 1
  fi
}

version_matches() {
  local found=$1
  [[ -n $found ]] || return 1
  if [[ $version == *.* ]]; then [[ $found == "$version" ]]; else [[ $found == "$version".* ]]; fi
}

current=$(installed_version)
if version_matches "$current"; then
  say "NVIDIA driver $current already installed"
  exit 0
fi
say "NVIDIA driver $version required, found ${current:-none}"

if [[ -z $log_file ]]; then
  log_file=${AZ_BATCH_NODE_STARTUP_DIR:-/var/log}/nvidia-installer-$version.log
fi
mkdir -p "$(dirname "$log_file")" || die "cannot create the log directory of $log_file"

package_manager() {
  if command -v apt-get >/dev/null 2>&1; then echo apt
  elif command -v dnf >/dev/null 2>&1; then echo dnf
  elif command -v yum >/dev/null 2>&1; then echo yum
  else echo none; fi
}

# The .run installer builds a kernel module: it needs a compiler, make and the running kernel's
# headers. Best effort: the installer's own log says what is missing when this fails.
install_build_prerequisites() {
  local kernel
  kernel=$(uname -r)
  if command -v gcc >/dev/null 2>&1 && command -v make >/dev/null 2>&1 \
     && [[ -e /lib/modules/$kernel/build ]]; then
    return 0
  fi
  say "installing gcc, make and the headers of kernel $kernel"
  case $(package_manager) in
    apt) DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$log_file" 2>&1 || true
         DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc make "linux-headers-$kernel" \
           >>"$log_file" 2>&1 || echo "$prog: warning: could not install the build prerequisites (see $log_file)" >&2 ;;
    dnf|yum) "$(package_manager)" install -y gcc make "kernel-devel-$kernel" "kernel-headers-$kernel" \
           >>"$log_file" 2>&1 || echo "$prog: warning: could not install the build prerequisites (see $log_file)" >&2 ;;
    *) echo "$prog: warning: no apt-get/dnf/yum: cannot install gcc, make and kernel headers" >&2 ;;
  esac
}

install_from_distro() {
  [[ -z $inventory ]] || die "--distro cannot be used in fixture mode (OPENBATCH_GPU_INVENTORY is set)"
  local major=${version%%.*} id="" pm
  pm=$(package_manager)
  if [[ -r /etc/os-release ]]; then
    id=$(. /etc/os-release && echo "${ID:-}")
  fi
  case $pm in
    apt)
      local pkg=nvidia-driver-$major
      [[ $id == debian ]] && pkg=nvidia-driver  # Debian has one driver per release (non-free)
      say "installing $pkg with apt-get (log: $log_file)"
      export DEBIAN_FRONTEND=noninteractive
      { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$pkg"; } >>"$log_file" 2>&1 \
        || die "apt-get install $pkg failed (see $log_file)"
      ;;
    dnf|yum)
      say "installing the nvidia-driver:$major module stream with $pm (log: $log_file)"
      { "$pm" -y module install "nvidia-driver:$major" || "$pm" -y install nvidia-driver; } >>"$log_file" 2>&1 \
        || die "$pm install nvidia-driver failed (see $log_file)"
      ;;
    *) die "--distro: no apt-get, dnf or yum on this node" ;;
  esac
}

find_package_dir() {
  local key lower var
  key=$(printf '%s_%s' "$app_id" "$version" | tr '.#-' '___')
  lower=$(printf '%s' "$key" | tr '[:upper:]' '[:lower:]')
  for var in "AZ_BATCH_APP_PACKAGE_$key" "AZ_BATCH_APP_PACKAGE_$lower" "AZ_BATCH_APP_PACKAGE_$app_id"; do
    if [[ -n ${!var:-} ]]; then
      echo "${!var}"
      return 0
    fi
  done
  return 1
}

install_from_run_file() {
  if [[ -z $package_dir ]]; then
    local key
    key=$(printf '%s_%s' "$app_id" "$version" | tr '.#-' '___')
    package_dir=$(find_package_dir) \
      || die "no package directory: pass --package-dir or reference application package $app_id version $version in the pool (AZ_BATCH_APP_PACKAGE_${key} is not set)"
  fi
  [[ -d $package_dir ]] || die "package directory $package_dir does not exist"
  local name=NVIDIA-Linux-x86_64-$version.run run_file
  run_file=$(find "$package_dir" -maxdepth 2 -name "$name" -type f -print -quit 2>/dev/null || true)
  if [[ -z $run_file ]]; then
    local present
    present=$(find "$package_dir" -maxdepth 2 -name 'NVIDIA-Linux-*.run' -printf '%f ' 2>/dev/null || true)
    die "$name not found in $package_dir${present:+ (it has: ${present% })}"
  fi
  local flags=(--silent --no-questions --ui=none --accept-license --disable-nouveau
               --no-cc-version-check "--log-file-name=$log_file")
  if [[ -z $inventory ]]; then
    install_build_prerequisites
    command -v dkms >/dev/null 2>&1 && flags+=(--dkms)  # rebuilds the module on kernel updates
  fi
  say "running $run_file (log: $log_file)"
  # The installer may change directory and must not hold the start task's directory.
  (cd / && sh "$run_file" "${flags[@]}") </dev/null >>"$log_file.console" 2>&1 \
    || die "$name failed with status $? (see $log_file and $log_file.console)"
}

if ((distro)); then install_from_distro; else install_from_run_file; fi

current=$(installed_version)
if [[ -z $current ]]; then
  if [[ -n $inventory ]]; then
    die "no driver found after the install ($inventory has no gpuDriverVersion), $version required"
  fi
  die "no driver found after the install (nvidia-smi fails; a reboot is needed if nouveau was loaded), $version required"
fi
version_matches "$current" || die "driver $current found, $version required"
say "NVIDIA driver $current installed"
