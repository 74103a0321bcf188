#!/usr/bin/env bash
# images/recipes/debian-12/recipe.sh: installs the OpenBatch node agent on Debian 12 (bookworm),
# OpenBatch's own node image openbatch/debian-12-node.
# The Debian 12 build of the agent runs as is: every library it links is packaged.
# Usage and options: --help, or the header of ../install-agent.sh. Examples:
#   sudo ./recipe.sh --agent-binary openbatch-agent --scheduler http://sched:8080 --pool gpu \
#        --join-token-file pool.token --start
#   ./recipe.sh --root /tmp/img --agent-binary openbatch-agent && ./recipe.sh --validate --root /tmp/img
set -euo pipefail

RECIPE_NAME=debian-12
RECIPE_DESCRIPTION="Debian 12 (bookworm), OpenBatch's own node image openbatch/debian-12-node"
RECIPE_PACKAGE_MANAGER=apt
RECIPE_PACKAGES=(ca-certificates passwd libboost-url1.81.0 libspdlog1.10 libfmt9 libssl3)
RECIPE_BUNDLE_LIBS=0

# shellcheck source-path=SCRIPTDIR source=../install-agent.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../install-agent.sh"
install_agent_main "$@"
