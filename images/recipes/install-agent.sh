# shellcheck shell=bash
# images/recipes/install-agent.sh: the shared half of every image recipe; not run by itself.
# A recipe (images/recipes/<image>/recipe.sh) sets RECIPE_NAME, RECIPE_DESCRIPTION,
# RECIPE_PACKAGE_MANAGER (apt|dnf), RECIPE_PACKAGES (array), RECIPE_BUNDLE_LIBS (0|1),
# sources this file and calls `install_agent_main "$@"`.
#
# Usage of every recipe.sh:
#   recipe.sh [--root DIR] [--agent-binary PATH] [--scheduler URL] [--pool ID]
#             [--join-token-file FILE] [--agent-arg ARG]... [--bundle-libs|--no-bundle-libs]
#             [--no-packages] [--start]
#   recipe.sh --validate [--root DIR]
#   recipe.sh --print-packages
#
# Installs into DIR (default /; another DIR is a throwaway root, e.g. an image being built,
# where no package manager runs and no service starts):
#   /usr/local/bin/openbatch-agent          the agent (--agent-binary; default: the repository's
#                                           build/node_agent/openbatch-agent, else PATH)
#   /etc/systemd/system/openbatch-agent.service, enabled for multi-user.target
#   /etc/openbatch/agent.env                OPENBATCH_SCHEDULER, OPENBATCH_POOL,
#                                           OPENBATCH_AGENT_ARGS (kept; --scheduler, --pool and
#                                           --agent-arg replace their line)
#   /etc/openbatch/join-token               copied from --join-token-file, mode 0600
#   /var/lib/openbatch-agent (0700), /mnt/batch/tasks (0755)
#   user _azbatch in group _azbatchgrp      the pool's non-admin task user, as on Azure
#   /usr/local/lib/openbatch/ + a unit drop-in setting LD_LIBRARY_PATH, with --bundle-libs:
#                                           the agent's shared libraries the image lacks
# On / it first installs the recipe's packages (unless --no-packages); --start also starts the
# service. Running it again changes nothing that is already right.
# --validate checks an installed DIR and lists every problem; --print-packages prints the
# recipe's packages, one per line. Exit status: 0 ok; 1 failed (stderr says why); 2 bad usage.

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  echo "install-agent.sh: run an image recipe (images/recipes/<image>/recipe.sh), not this file" >&2
  exit 2
fi

readonly AGENT_BIN=/usr/local/bin/openbatch-agent
readonly AGENT_UNIT=/etc/systemd/system/openbatch-agent.service
readonly AGENT_DROPIN=/etc/systemd/system/openbatch-agent.service.d/bundled-libs.conf
readonly AGENT_WANTS=/etc/systemd/system/multi-user.target.wants/openbatch-agent.service
readonly AGENT_ENV=/etc/openbatch/agent.env
readonly AGENT_TOKEN=/etc/openbatch/join-token
readonly AGENT_STATE=/var/lib/openbatch-agent
readonly AGENT_NODE_ROOT=/mnt/batch/tasks
readonly AGENT_LIBDIR=/usr/local/lib/openbatch
readonly TASK_USER=_azbatch
readonly TASK_GROUP=_azbatchgrp
# Libraries every supported image has in a compatible version: never bundled.
readonly BASE_LIBS_RE='^(linux-vdso|ld-linux|libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|libcrypto|libssl|libz)\.so'

recipes_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

_prog() { echo "${RECIPE_NAME:-recipe}/recipe.sh"; }
_say() { echo "$(_prog): $*"; }
_warn() { echo "$(_prog): warning: $*" >&2; }
_die() { echo "$(_prog): $*" >&2; exit 1; }
_usage_error() { echo "$(_prog): $* (try --help)" >&2; exit 2; }
_usage() {
  echo "$(_prog): installs the OpenBatch node agent on ${RECIPE_DESCRIPTION:-this image}."
  echo "Packages (${RECIPE_PACKAGE_MANAGER}): ${RECIPE_PACKAGES[*]}"
  sed -n '/^# Usage of every recipe.sh:/,/^$/{/^$/d;s/^# \{0,1\}//;p}' "$recipes_dir/install-agent.sh"
}

# r PATH: PATH inside the target root.
r() { if [[ $root == / ]]; then printf '%s' "$1"; else printf '%s%s' "${root%/}" "$1"; fi; }

_install_packages() {
  ((${#RECIPE_PACKAGES[@]})) || return 0
  case $RECIPE_PACKAGE_MANAGER in
    apt)
      local missing=() p
      for p in "${RECIPE_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
      done
      ((${#missing[@]})) || { _say "packages already installed"; return 0; }
      _say "installing ${missing[*]} (apt-get)"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq || _die "apt-get update failed"
      apt-get install -y -qq --no-install-recommends "${missing[@]}" || _die "apt-get install ${missing[*]} failed"
      ;;
    dnf)
      local pm=dnf
      command -v dnf >/dev/null 2>&1 || pm=yum
      _say "installing ${RECIPE_PACKAGES[*]} ($pm)"
      "$pm" install -y "${RECIPE_PACKAGES[@]}" || _die "$pm install ${RECIPE_PACKAGES[*]} failed"
      ;;
    *) _die "unknown package manager '$RECIPE_PACKAGE_MANAGER' in the recipe" ;;
  esac
}

# install -D that leaves an identical file alone (idempotent and quiet).
_install_file() {  # MODE SRC DEST
  local mode=$1 src=$2 dest=$3
  if [[ -f $dest ]] && cmp -s "$src" "$dest"; then
    chmod "$mode" "$dest"
    return 0
  fi
  install -D -m "$mode" "$src" "$dest" || _die "cannot install $dest"
  _say "installed $dest"
}

# Sets KEY=VALUE in the env file, replacing its line.
_set_env() {  # FILE KEY VALUE
  local file=$1 key=$2 value=$3 tmp
  [[ $value != *$'\n'* ]] || _die "$key must be one line"
  tmp=$(mktemp "$file.XXXXXX")
  awk -v k="$key" -v v="$value" 'BEGIN { done = 0 }
    index($0, k "=") == 1 { if (!done) print k "=" v; done = 1; next }
    { print }
    END { if (!done) print k "=" v }' "$file" >"$tmp" || { rm -f "$tmp"; _die "cannot write $file"; }
  chmod 0644 "$tmp"
  mv -f "$tmp" "$file" || _die "cannot write $file"
}

_write_env_file() {
  local env_file
  env_file=$(r "$AGENT_ENV")
  mkdir -p "$(dirname "$env_file")"
  chmod 0755 "$(dirname "$env_file")"
  if [[ ! -f $env_file ]]; then
    cat >"$env_file" <<'ENV'
# /etc/openbatch/agent.env: read by openbatch-agent.service (EnvironmentFile=).
# OPENBATCH_SCHEDULER: the scheduler's base URL (http://host:port). OPENBATCH_POOL: the pool
# this node joins the first time it starts; its join token (`openbatch pool join-token POOL`)
# goes in /etc/openbatch/join-token, mode 0600. After the first join the node's identity is in
# /var/lib/openbatch-agent/node.json and neither is read again.
OPENBATCH_SCHEDULER=
OPENBATCH_POOL=
# Extra `openbatch-agent run` flags, split at spaces (e.g. --log-level debug).
OPENBATCH_AGENT_ARGS=
ENV
    chmod 0644 "$env_file"
    _say "wrote $env_file"
  fi
  [[ -z $scheduler ]] || _set_env "$env_file" OPENBATCH_SCHEDULER "$scheduler"
  [[ -z $pool ]] || _set_env "$env_file" OPENBATCH_POOL "$pool"
  ((${#agent_args[@]} == 0)) || _set_env "$env_file" OPENBATCH_AGENT_ARGS "${agent_args[*]}"
}

# The first free id in the system range, counting down from 999 as useradd --system does.
_free_id() {  # FILE (passwd or group)
  local id
  for ((id = 999; id >= 100; id--)); do
    awk -F: -v id="$id" '$3 == id { found = 1 } END { exit !found }' "$1" 2>/dev/null || { echo "$id"; return 0; }
  done
  _die "no free system id in $1"
}

_ensure_task_user() {
  if [[ $root == / ]]; then
    getent group "$TASK_GROUP" >/dev/null || groupadd --system "$TASK_GROUP" || _die "groupadd $TASK_GROUP failed"
    if ! getent passwd "$TASK_USER" >/dev/null; then
      useradd --system --no-create-home --shell /usr/sbin/nologin --gid "$TASK_GROUP" "$TASK_USER" \
        || _die "useradd $TASK_USER failed"
      _say "created user $TASK_USER (group $TASK_GROUP)"
    fi
    return 0
  fi
  # A throwaway root: edit its files, never the host's (useradd --root would chroot into it).
  local etc passwd group shadow gid uid
  etc=$(r /etc)
  passwd=$etc/passwd group=$etc/group shadow=$etc/shadow
  mkdir -p "$etc"
  touch "$passwd" "$group"
  gid=$(awk -F: -v g="$TASK_GROUP" '$1 == g { print $3 }' "$group")
  if [[ -z $gid ]]; then
    gid=$(_free_id "$group")
    echo "$TASK_GROUP:x:$gid:" >>"$group"
  fi
  if ! awk -F: -v u="$TASK_USER" '$1 == u { found = 1 } END { exit !found }' "$passwd"; then
    uid=$(_free_id "$passwd")
    echo "$TASK_USER:x:$uid:$gid:OpenBatch task user:/nonexistent:/usr/sbin/nologin" >>"$passwd"
    if [[ -f $shadow ]]; then
      echo "$TASK_USER:!:$(($(date +%s) / 86400))::::::" >>"$shadow"
    fi
    _say "created user $TASK_USER (uid $uid, group $TASK_GROUP gid $gid) in $passwd"
  fi
}

# Copies the agent's shared libraries that are not in BASE_LIBS_RE next to it, for images
# whose distribution does not package them (resolved by ldd on this, the build, machine).
_bundle_libs() {
  local libdir dropin deps name path count=0
  libdir=$(r "$AGENT_LIBDIR")
  dropin=$(r "$AGENT_DROPIN")
  if ! deps=$(ldd "$agent_binary" 2>/dev/null); then
    _warn "$agent_binary is not a dynamic executable: no libraries to bundle"
    return 0
  fi
  mkdir -p "$libdir"
  while read -r name _ path _; do
    [[ $name =~ $BASE_LIBS_RE ]] && continue
    [[ $path == /* && -f $path ]] || continue
    _install_file 0644 "$path" "$libdir/$name"
    count=$((count + 1))
  done <<<"$deps"
  if grep -q 'not found' <<<"$deps"; then
    _die "ldd cannot resolve every library of $agent_binary on this machine: $(grep 'not found' <<<"$deps" | tr -s ' \t\n' ' ')"
  fi
  local tmp
  tmp=$(mktemp)
  printf '%s\n' "# Written by images/recipes (--bundle-libs): the agent's own copies of libraries" \
    "# this image does not package. Tasks do not inherit it (the agent builds their environment)." \
    "[Service]" "Environment=LD_LIBRARY_PATH=$AGENT_LIBDIR" >"$tmp"
  _install_file 0644 "$tmp" "$dropin"
  rm -f "$tmp"
  _say "bundled $count librar$( ((count == 1)) && echo y || echo ies) in $libdir"
}

_install() {
  [[ -f $agent_binary && -x $agent_binary ]] || _die "agent binary $agent_binary is missing or not executable (build it, or pass --agent-binary)"
  if [[ $root == / ]]; then
    ((EUID == 0)) || _die "installing into / needs root"
    ((no_packages)) || _install_packages
  else
    mkdir -p "$root" || _die "cannot create $root"
    ((no_packages)) || _say "not installing packages into $root (a throwaway root): ${RECIPE_PACKAGES[*]}"
  fi
  _install_file 0755 "$agent_binary" "$(r "$AGENT_BIN")"
  _install_file 0644 "$recipes_dir/openbatch-agent.service" "$(r "$AGENT_UNIT")"
  if ((bundle)); then _bundle_libs; fi
  local wants
  wants=$(r "$AGENT_WANTS")
  mkdir -p "$(dirname "$wants")"
  if [[ $(readlink "$wants" 2>/dev/null) != "$AGENT_UNIT" ]]; then
    ln -sfn "$AGENT_UNIT" "$wants"  # what `systemctl enable` does, offline
    _say "enabled openbatch-agent.service (multi-user.target)"
  fi
  _write_env_file
  if [[ -n $token_file ]]; then
    [[ -r $token_file ]] || _die "join token file $token_file is not readable"
    local dest
    dest=$(r "$AGENT_TOKEN")
    (umask 077 && cp "$token_file" "$dest.tmp" && mv -f "$dest.tmp" "$dest") || _die "cannot write $dest"
    chmod 0600 "$dest"
    _say "installed the join token in $dest"
  fi
  install -d -m 0700 "$(r "$AGENT_STATE")"
  install -d -m 0755 "$(r "$AGENT_NODE_ROOT")"
  _ensure_task_user
  if [[ $root == / && -d /run/systemd/system ]]; then
    systemctl daemon-reload || _warn "systemctl daemon-reload failed"
    if ((start)); then
      systemctl restart openbatch-agent.service || _die "systemctl restart openbatch-agent failed (journalctl -u openbatch-agent)"
      _say "openbatch-agent started"
    fi
  elif ((start)); then
    _warn "--start ignored: not installing into a running systemd system"
  fi
  _validate
}

_validate() {
  local problems=() bin unit env_file line
  bin=$(r "$AGENT_BIN")
  unit=$(r "$AGENT_UNIT")
  env_file=$(r "$AGENT_ENV")
  if [[ ! -f $bin ]]; then problems+=("$AGENT_BIN is missing")
  elif [[ ! -x $bin ]]; then problems+=("$AGENT_BIN is not executable")
  elif [[ $root == / ]]; then
    local lib_path=""
    [[ -f $AGENT_DROPIN ]] && lib_path=$AGENT_LIBDIR
    if command -v ldd >/dev/null 2>&1 && LD_LIBRARY_PATH=$lib_path ldd "$bin" 2>&1 | grep -q 'not found'; then
      problems+=("$AGENT_BIN cannot load: $(LD_LIBRARY_PATH=$lib_path ldd "$bin" 2>&1 | grep 'not found' | tr -s ' \t\n' ' ')")
    elif ! LD_LIBRARY_PATH=$lib_path "$bin" --help >/dev/null 2>&1; then
      problems+=("$AGENT_BIN --help fails")
    fi
  fi
  if [[ ! -f $unit ]]; then
    problems+=("$AGENT_UNIT is missing")
  else
    local section
    for section in '[Unit]' '[Service]' '[Install]'; do
      grep -qxF "$section" "$unit" || problems+=("$AGENT_UNIT has no $section section")
    done
    line=$(grep -m1 '^ExecStart=' "$unit" || true)
    [[ $line == "ExecStart=$AGENT_BIN run "* ]] || problems+=("$AGENT_UNIT: ExecStart does not run $AGENT_BIN run")
    local flag
    for flag in "--scheduler " "--root $AGENT_NODE_ROOT" "--state-dir $AGENT_STATE" "--join-token-file $AGENT_TOKEN"; do
      [[ $line == *" $flag"* ]] || problems+=("$AGENT_UNIT: ExecStart lacks $flag")
    done
    grep -qx "EnvironmentFile=$AGENT_ENV" "$unit" || problems+=("$AGENT_UNIT: no EnvironmentFile=$AGENT_ENV")
    grep -qx 'WantedBy=multi-user.target' "$unit" || problems+=("$AGENT_UNIT: not WantedBy=multi-user.target")
    cmp -s "$unit" "$recipes_dir/openbatch-agent.service" || problems+=("$AGENT_UNIT differs from images/recipes/openbatch-agent.service")
  fi
  [[ $(readlink "$(r "$AGENT_WANTS")" 2>/dev/null) == "$AGENT_UNIT" ]] || problems+=("openbatch-agent.service is not enabled ($AGENT_WANTS)")
  if [[ ! -f $env_file ]]; then
    problems+=("$AGENT_ENV is missing")
  else
    local key
    for key in OPENBATCH_SCHEDULER OPENBATCH_POOL OPENBATCH_AGENT_ARGS; do
      grep -q "^$key=" "$env_file" || problems+=("$AGENT_ENV has no $key line")
    done
    grep -q '^OPENBATCH_SCHEDULER=.' "$env_file" || _warn "OPENBATCH_SCHEDULER is empty in $AGENT_ENV: set it before starting the agent"
  fi
  local token
  token=$(r "$AGENT_TOKEN")
  if [[ -e $token ]]; then
    [[ $(stat -c %a "$token") == 600 ]] || problems+=("$AGENT_TOKEN is not mode 0600")
  fi
  local state
  state=$(r "$AGENT_STATE")
  if [[ ! -d $state ]]; then problems+=("$AGENT_STATE is missing")
  elif [[ $(stat -c %a "$state") != 700 ]]; then problems+=("$AGENT_STATE is not mode 0700")
  fi
  [[ -d $(r "$AGENT_NODE_ROOT") ]] || problems+=("$AGENT_NODE_ROOT is missing")
  local gid ugid
  if [[ $root == / ]]; then
    gid=$(getent group "$TASK_GROUP" | cut -d: -f3 || true)
    ugid=$(getent passwd "$TASK_USER" | cut -d: -f4 || true)
  else
    gid=$(awk -F: -v g="$TASK_GROUP" '$1 == g { print $3 }' "$(r /etc/group)" 2>/dev/null || true)
    ugid=$(awk -F: -v u="$TASK_USER" '$1 == u { print $4 }' "$(r /etc/passwd)" 2>/dev/null || true)
  fi
  [[ -n $gid ]] || problems+=("group $TASK_GROUP is missing")
  [[ -n $ugid ]] || problems+=("user $TASK_USER is missing")
  [[ -z $gid || -z $ugid || $gid == "$ugid" ]] || problems+=("user $TASK_USER is not in group $TASK_GROUP (gid $ugid, not $gid)")
  if [[ -f $(r "$AGENT_DROPIN") ]]; then
    compgen -G "$(r "$AGENT_LIBDIR")/*.so*" >/dev/null || problems+=("$AGENT_DROPIN exists but $AGENT_LIBDIR has no libraries")
  fi
  if ((${#problems[@]})); then
    local joined
    joined=$(printf '%s; ' "${problems[@]}")
    _die "invalid install in $root: ${#problems[@]} problem(s): ${joined%; }"
  fi
  _say "valid install in $root"
}

install_agent_main() {
  root=/
  agent_binary=${OPENBATCH_AGENT_BINARY:-}
  scheduler=""
  pool=""
  token_file=""
  agent_args=()
  bundle=${RECIPE_BUNDLE_LIBS:-0}
  no_packages=0
  start=0
  local validate=0
  while (($#)); do
    case $1 in
      -h|--help) _usage; exit 0 ;;
      --root) (($# >= 2)) || _usage_error "--root needs a directory"; root=$2; shift ;;
      --agent-binary) (($# >= 2)) || _usage_error "--agent-binary needs a path"; agent_binary=$2; shift ;;
      --scheduler) (($# >= 2)) || _usage_error "--scheduler needs a URL"; scheduler=$2; shift ;;
      --pool) (($# >= 2)) || _usage_error "--pool needs an id"; pool=$2; shift ;;
      --join-token-file) (($# >= 2)) || _usage_error "--join-token-file needs a file"; token_file=$2; shift ;;
      --agent-arg) (($# >= 2)) || _usage_error "--agent-arg needs an argument"; agent_args+=("$2"); shift ;;
      --bundle-libs) bundle=1 ;;
      --no-bundle-libs) bundle=0 ;;
      --no-packages) no_packages=1 ;;
      --start) start=1 ;;
      --validate) validate=1 ;;
      --print-packages) printf '%s\n' "${RECIPE_PACKAGES[@]}"; exit 0 ;;
      *) _usage_error "unknown argument '$1'" ;;
    esac
    shift
  done
  [[ $root == /* ]] || root=$(pwd)/$root
  [[ $root == / ]] || root=${root%/}
  [[ -z $scheduler || $scheduler =~ ^https?://[^[:space:]]+$ ]] || _usage_error "--scheduler must be an http(s):// URL"
  if ((validate)); then
    [[ -d $root ]] || _die "$root does not exist"
    _validate
    return 0
  fi
  if [[ -z $agent_binary ]]; then
    local built=$recipes_dir/../../build/node_agent/openbatch-agent
    if [[ -x $built ]]; then agent_binary=$built
    else agent_binary=$(command -v openbatch-agent || true)
    fi
    [[ -n $agent_binary ]] || _die "no agent binary: pass --agent-binary (or build build/node_agent/openbatch-agent)"
  fi
  _install
}
