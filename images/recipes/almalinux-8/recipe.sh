#!/usr/bin/env bash
# images/recipes/almalinux-8/recipe.sh: installs the OpenBatch node agent on AlmaLinux 8 HPC
# (almalinux-hpc 8-hpc-gen2).
# Needs an agent built on EL 8 (gcc-toolset-12): the Debian 12 build requires glibc 2.34 (EL 8 has
# 2.28) and libcrypto.so.3 (EL 8 has OpenSSL 1.1); its Boost.URL, spdlog and fmt are bundled.
# Usage and options: --help, or the header of ../install-agent.sh. Examples:
#   sudo ./recipe.sh --agent-binary openbatch-agent --scheduler http://sched:8080 --pool gpu \
#        --join-token-file pool.token --start
#   ./recipe.sh --root /tmp/img --agent-binary openbatch-agent && ./recipe.sh --validate --root /tmp/img
set -euo pipefail

RECIPE_NAME=almalinux-8
RECIPE_DESCRIPTION="AlmaLinux 8 HPC (almalinux-hpc 8-hpc-gen2)"
RECIPE_PACKAGE_MANAGER=dnf
RECIPE_PACKAGES=(ca-certificates shadow-utils openssl-libs libstdc++)
RECIPE_BUNDLE_LIBS=1

# shellcheck source-path=SCRIPTDIR source=../install-agent.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../install-agent.sh"
install_agent_main "$@"
