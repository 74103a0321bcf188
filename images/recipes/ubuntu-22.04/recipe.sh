#!/usr/bin/env bash
# images/recipes/ubuntu-22.04/recipe.sh: installs the OpenBatch node agent on Ubuntu Server 22.04
# LTS (and the ubuntu-hpc 2204 image).
# The Debian 12 build runs here (glibc 2.35, GCC 12 libstdc++); Boost.URL 1.81, spdlog 1.10 and
# fmt 9 are not packaged, so they are bundled (--bundle-libs).
# Usage and options: --help, or the header of ../install-agent.sh. Examples:
#   sudo ./recipe.sh --agent-binary openbatch-agent --scheduler http://sched:8080 --pool gpu \
#        --join-token-file pool.token --start
#   ./recipe.sh --root /tmp/img --agent-binary openbatch-agent && ./recipe.sh --validate --root /tmp/img
set -euo pipefail

RECIPE_NAME=ubuntu-22.04
RECIPE_DESCRIPTION="Ubuntu Server 22.04 LTS (and the ubuntu-hpc 2204 image)"
RECIPE_PACKAGE_MANAGER=apt
RECIPE_PACKAGES=(ca-certificates passwd libssl3 libstdc++6)
RECIPE_BUNDLE_LIBS=1

# shellcheck source-path=SCRIPTDIR source=../install-agent.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../install-agent.sh"
install_agent_main "$@"
