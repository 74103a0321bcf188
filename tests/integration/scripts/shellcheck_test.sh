#!/usr/bin/env bash
# Runs shellcheck -x over every shell script this project ships for nodes: start_tasks/*.sh, the
# image recipes, the test fixture builders and these tests. Any finding fails the test.
# Skips (77) when shellcheck is not installed (.ci/install-deps.sh installs it).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "SKIPPED: shellcheck is not installed"
  exit 77
fi
cd "$repo"
shopt -s nullglob globstar
bash_files=(start_tasks/*.sh images/recipes/**/*.sh tests/fixtures/packages/*.sh
            tests/integration/scripts/*.sh tests/netns/*.sh)
sh_files=(tests/fixtures/packages/**/*.sh.in)
shopt -u nullglob globstar

checks=$((checks + 1))
if ((${#bash_files[@]} < 10)); then
  fail "expected at least 10 scripts, found ${#bash_files[@]}: ${bash_files[*]}"
fi
# One shellcheck per dialect (it is slow to start); its output names the file of each finding.
run shellcheck_bash shellcheck -x "${bash_files[@]}"
expect_status 0 "shellcheck -x on ${#bash_files[@]} bash scripts"
if ((${#sh_files[@]})); then
  run shellcheck_sh shellcheck -x --shell=sh "${sh_files[@]}"
  expect_status 0 "shellcheck -x --shell=sh on ${sh_files[*]}"
fi
# Every start task and recipe is executable and uses strict mode.
for f in start_tasks/*.sh images/recipes/*/recipe.sh tests/fixtures/packages/*.sh; do
  checks=$((checks + 1))
  [[ -x $f ]] || fail "$f is not executable"
  checks=$((checks + 1))
  grep -qx 'set -euo pipefail' "$f" || fail "$f lacks 'set -euo pipefail'"
done
finish
