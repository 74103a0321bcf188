#!/usr/bin/env bash
# images/recipes/ubuntu-20.04/recipe.sh: installs the OpenBatch node agent on Ubuntu Server 20.04
# LTS (and the ubuntu-hpc 2004 and ubuntu-server-container 20-04-lts images).
# Needs an agent built on Ubuntu 20.04: the Debian 12 build requires glibc 2.34 (20.04 has 2.31)
# and libcrypto.so.3 (20.04 has OpenSSL 1.1); its Boost.URL, spdlog and fmt are bundled.
# Usage and options: --help, or the header of ../install-agent.sh. Examples:
#   sudo ./recipe.sh --agent-binary openbatch-agent --scheduler http://sched:8080 --pool gpu \
#        --join-token-file pool.token --start
#   ./recipe.sh --root /tmp/img --agent-binary openbatch-agent && ./recipe.sh --validate --root /tmp/img
set -euo pipefail

RECIPE_NAME=ubuntu-20.04
RECIPE_DESCRIPTION="Ubuntu Server 20.04 LTS (and the ubuntu-hpc 2004 and ubuntu-server-container 20-04-lts images)"
RECIPE_PACKAGE_MANAGER=apt
RECIPE_PACKAGES=(ca-certificates passwd libssl1.1 libstdc++6)
RECIPE_BUNDLE_LIBS=1

# shellcheck source-path=SCRIPTDIR source=../install-agent.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../install-agent.sh"
install_agent_main "$@"
