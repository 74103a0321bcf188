#!/usr/bin/env bash
# images/recipes: every recipe installs a dummy agent into a throwaway root (inside
# `unshare --mount --net --uts --fork` when that works: no network, nothing mounted on the
# host), --validate accepts the result and rejects broken copies, a second run changes nothing,
# the unit file passes `systemd-analyze verify` (or a key check without systemd), and
# recipes.json covers supported_images.json. With $OPENBATCH_AGENT (the built agent, set by
# CTest), the ubuntu-22.04 recipe also bundles its libraries and ldd resolves them.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

recipes=$repo/images/recipes
unit=$recipes/openbatch-agent.service

printf '#!/bin/sh\necho "openbatch-agent (dummy) $*"\n' >"$tmp/openbatch-agent"
chmod 0755 "$tmp/openbatch-agent"
echo "pool-join-token" >"$tmp/token"

isolate=()
if unshare --mount --net --uts --fork true 2>/dev/null; then
  isolate=(unshare --mount --net --uts --fork)
else
  echo "note: unshare not available here, running the recipes without it"
fi

shopt -s nullglob
recipe_scripts=("$recipes"/*/recipe.sh)
shopt -u nullglob
checks=$((checks + 1))
((${#recipe_scripts[@]} >= 4)) || fail "expected at least 4 recipes, found ${#recipe_scripts[@]}"

for recipe in "${recipe_scripts[@]}"; do
  name=$(basename "$(dirname "$recipe")")
  root=$tmp/root-$name
  run "install-$name" "${isolate[@]}" "$recipe" --root "$root" --agent-binary "$tmp/openbatch-agent" \
    --no-bundle-libs --scheduler http://scheduler.example:8080 --pool gpu-pool \
    --join-token-file "$tmp/token" --agent-arg --log-level --agent-arg debug
  expect_status 0 "$name: install into a throwaway root"
  expect_match "$out" "valid install in $root" "$name: the install validates itself"

  run "validate-$name" "$recipe" --validate --root "$root"
  expect_status 0 "$name: --validate"

  checks=$((checks + 1))
  if ! cmp -s "$tmp/openbatch-agent" "$root/usr/local/bin/openbatch-agent" \
     || [[ ! -x $root/usr/local/bin/openbatch-agent ]]; then
    fail "$name: the agent binary was not installed"
  fi
  expect_match "$(cat "$root/etc/openbatch/agent.env")" '^OPENBATCH_SCHEDULER=http://scheduler.example:8080$' \
    "$name: agent.env has the scheduler"
  expect_match "$(cat "$root/etc/openbatch/agent.env")" '^OPENBATCH_AGENT_ARGS=--log-level debug$' \
    "$name: agent.env has the extra arguments"
  checks=$((checks + 1))
  [[ $(stat -c %a "$root/etc/openbatch/join-token") == 600 ]] || fail "$name: join-token is not 0600"
  expect_match "$(cat "$root/etc/passwd")" '^_azbatch:x:[0-9]+:[0-9]+:' "$name: _azbatch in passwd"
  expect_match "$(cat "$root/etc/group")" '^_azbatchgrp:x:[0-9]+:' "$name: _azbatchgrp in group"

  # Idempotent: a second run (without the configuration flags) keeps everything as it was.
  find "$root" -printf '%p %m %s %l\n' | sort >"$tmp/before"
  md5sum "$root/etc/openbatch/agent.env" "$root/etc/passwd" "$root/etc/group" >"$tmp/sums"
  run "again-$name" "$recipe" --root "$root" --agent-binary "$tmp/openbatch-agent" --no-bundle-libs
  expect_status 0 "$name: second run"
  find "$root" -printf '%p %m %s %l\n' | sort >"$tmp/after"
  checks=$((checks + 1))
  if ! cmp -s "$tmp/before" "$tmp/after" || ! md5sum --quiet -c "$tmp/sums" >/dev/null 2>&1; then
    fail "$name: the second run changed the root: $(diff "$tmp/before" "$tmp/after" | head -5)"
  fi
  expect_no_match "$out" 'installed|created|wrote' "$name: the second run installs nothing"

  run "packages-$name" "$recipe" --print-packages
  expect_status 0 "$name: --print-packages"
  printf '%s\n' "$out" >"$tmp/packages-$name"
done

# --validate must fail for real: break copies of one install in different ways.
good=$tmp/root-debian-12
recipe=$recipes/debian-12/recipe.sh
break_and_validate() {  # WHAT REGEX COMMAND...
  local what=$1 regex=$2
  shift 2
  rm -rf "$tmp/broken"
  cp -a "$good" "$tmp/broken"
  "$@"
  run "broken" "$recipe" --validate --root "$tmp/broken"
  expect_status 1 "--validate rejects: $what"
  expect_match "$err" "$regex" "--validate names it: $what"
}
break_and_validate "no binary" '/usr/local/bin/openbatch-agent is missing' rm "$tmp/broken/usr/local/bin/openbatch-agent"
break_and_validate "binary not executable" 'is not executable' chmod 0644 "$tmp/broken/usr/local/bin/openbatch-agent"
break_and_validate "no unit" 'openbatch-agent.service is missing' rm "$tmp/broken/etc/systemd/system/openbatch-agent.service"
break_and_validate "unit without ExecStart" 'ExecStart does not run' \
  sed -i '/^ExecStart=/d' "$tmp/broken/etc/systemd/system/openbatch-agent.service"
break_and_validate "unit not enabled" 'is not enabled' \
  rm "$tmp/broken/etc/systemd/system/multi-user.target.wants/openbatch-agent.service"
break_and_validate "state dir mode" 'openbatch-agent is not mode 0700' chmod 0755 "$tmp/broken/var/lib/openbatch-agent"
break_and_validate "token mode" 'join-token is not mode 0600' chmod 0644 "$tmp/broken/etc/openbatch/join-token"
break_and_validate "no task user" 'user _azbatch is missing' sed -i '/^_azbatch:/d' "$tmp/broken/etc/passwd"
break_and_validate "no task group" 'group _azbatchgrp is missing' sed -i '/^_azbatchgrp:/d' "$tmp/broken/etc/group"
break_and_validate "two problems at once" '2 problem\(s\)' \
  rm -r "$tmp/broken/mnt/batch/tasks" "$tmp/broken/etc/openbatch/agent.env"

run noroot "$recipe" --validate --root "$tmp/nothing-here"
expect_status 1 "--validate of a missing root"
run nobinary "$recipe" --root "$tmp/r" --agent-binary "$tmp/no-such-agent"
expect_status 1 "a missing --agent-binary"
expect_match "$err" 'agent binary .*no-such-agent is missing' "names the missing binary"
run badarg "$recipe" --frobnicate
expect_status 2 "an unknown option"
run help "$recipe" --help
expect_status 0 "--help"
expect_match "$out" '--validate' "--help lists --validate"
run direct bash "$recipes/install-agent.sh"
expect_status 2 "install-agent.sh refuses to run by itself"

# The unit file: systemd-analyze verify with the agent path pointing at the dummy (verify
# checks that ExecStart is executable), else the keys a unit must have.
if command -v systemd-analyze >/dev/null 2>&1; then
  sed "s|/usr/local/bin/openbatch-agent|$tmp/openbatch-agent|" "$unit" >"$tmp/openbatch-agent.service"
  run verify systemd-analyze verify "$tmp/openbatch-agent.service"
  expect_status 0 "systemd-analyze verify openbatch-agent.service"
  checks=$((checks + 1))
  # verify only warns (status 0) about settings it ignores: any output is a failure.
  [[ -z $out && -z $err ]] || fail "systemd-analyze verify complains: $out $err"
  sed 's/^KillMode=process/KillMode=bogus/' "$tmp/openbatch-agent.service" >"$tmp/bad.service"
  run verify_bad systemd-analyze verify "$tmp/bad.service"
  checks=$((checks + 1))
  [[ -n $err$out ]] || fail "systemd-analyze verify did not notice a bad KillMode (the check is blind)"
else
  echo "note: no systemd-analyze, checking the unit's keys only"
fi
for key in '^\[Unit\]$' '^\[Service\]$' '^\[Install\]$' '^Description=.' '^After=network-online.target$' \
  '^EnvironmentFile=/etc/openbatch/agent.env$' \
  '^ExecStart=/usr/local/bin/openbatch-agent run --scheduler \$\{OPENBATCH_SCHEDULER\} --pool \$\{OPENBATCH_POOL\} --join-token-file /etc/openbatch/join-token --root /mnt/batch/tasks --state-dir /var/lib/openbatch-agent( |$)' \
  '^Restart=on-failure$' '^RestartPreventExitStatus=2 3$' '^LimitMEMLOCK=infinity$' '^WantedBy=multi-user.target$'; do
  expect_match "$(cat "$unit")" "$key" "unit has $key"
done
# The flags in ExecStart are the agent's (node_agent/daemon/cli.cpp).
for flag in --scheduler --pool --join-token-file --root --state-dir; do
  expect_match "$(cat "$repo/node_agent/daemon/cli.cpp")" "\"$flag\"" "openbatch-agent run has $flag"
done

# recipes.json against supported_images.json and the recipes (node parses the JSON).
if command -v node >/dev/null 2>&1; then
  run catalog node - "$repo" "$tmp" <<'JS'
const fs = require("fs");
const [repo, tmp] = process.argv.slice(2);
const images = JSON.parse(fs.readFileSync(`${repo}/images/supported_images.json`)).images;
const recipes = JSON.parse(fs.readFileSync(`${repo}/images/recipes/recipes.json`));
const key = (r) => [r.publisher, r.offer, r.sku].join("/").toLowerCase();
const mapped = new Map(recipes.images.filter((e) => e.imageReference).map((e) => [key(e.imageReference), e]));
const problems = [];
for (const image of images) {
  const entry = mapped.get(key(image.imageReference));
  if (!entry) { problems.push(`no recipes.json entry for ${key(image.imageReference)}`); continue; }
  mapped.delete(key(image.imageReference));
  if (image.osType === "windows") {
    if (entry.recipe !== null) problems.push(`${key(image.imageReference)} is Windows but has recipe ${entry.recipe}`);
  } else if (!recipes.recipes[entry.recipe]) {
    problems.push(`${key(image.imageReference)}: unknown recipe ${entry.recipe}`);
  }
}
for (const k of mapped.keys()) problems.push(`recipes.json lists ${k}, which supported_images.json does not`);
if (!recipes.images.some((e) => e.customImage === "openbatch/debian-12-node" && e.recipe === "debian-12"))
  problems.push("openbatch/debian-12-node has no debian-12 recipe");
for (const [name, recipe] of Object.entries(recipes.recipes)) {
  if (recipe.script !== `${name}/recipe.sh`) problems.push(`${name}: script is ${recipe.script}`);
  let listed;
  try { listed = fs.readFileSync(`${tmp}/packages-${name}`, "utf8").trim().split("\n"); }
  catch { problems.push(`${name}: no images/recipes/${name}/recipe.sh`); continue; }
  if (JSON.stringify(listed) !== JSON.stringify(recipe.packages))
    problems.push(`${name}: recipe.sh installs ${listed.join(" ")}, recipes.json says ${recipe.packages.join(" ")}`);
  const text = fs.readFileSync(`${repo}/images/recipes/${recipe.script}`, "utf8");
  const pm = /RECIPE_PACKAGE_MANAGER=(\S+)/.exec(text)?.[1];
  const bundle = /RECIPE_BUNDLE_LIBS=(\d)/.exec(text)?.[1] === "1";
  if (pm !== recipe.packageManager) problems.push(`${name}: package manager ${pm} vs ${recipe.packageManager}`);
  if (bundle !== recipe.bundleLibs) problems.push(`${name}: bundleLibs ${bundle} vs ${recipe.bundleLibs}`);
}
if (problems.length) { console.error(problems.join("\n")); process.exit(1); }
console.log(`${images.length} catalog images and ${Object.keys(recipes.recipes).length} recipes agree`);
JS
  expect_status 0 "recipes.json covers supported_images.json and matches the recipes"
else
  echo "note: node not found, recipes.json not cross-checked"
fi

# The real agent, bundled as for Ubuntu 22.04: its libraries resolve from the bundle.
agent=${OPENBATCH_AGENT:-}
if [[ -n $agent && -x $agent ]]; then
  root=$tmp/root-bundled
  run bundled "$recipes/ubuntu-22.04/recipe.sh" --root "$root" --agent-binary "$agent"
  expect_status 0 "ubuntu-22.04 recipe with the built agent, bundling its libraries"
  expect_match "$(cat "$root/etc/systemd/system/openbatch-agent.service.d/bundled-libs.conf")" \
    '^Environment=LD_LIBRARY_PATH=/usr/local/lib/openbatch$' "the drop-in sets LD_LIBRARY_PATH"
  checks=$((checks + 1))
  resolved=$(LD_LIBRARY_PATH=$root/usr/local/lib/openbatch ldd "$root/usr/local/bin/openbatch-agent" 2>&1 || true)
  if grep -q 'not found' <<<"$resolved"; then fail "bundled agent: $resolved"; fi
  for lib in "$root"/usr/local/lib/openbatch/*.so*; do
    expect_match "$resolved" "$(basename "$lib") => $root/usr/local/lib/openbatch/" "$(basename "$lib") loads from the bundle"
  done
  expect_no_match "$(ls "$root/usr/local/lib/openbatch")" '^lib(c|stdc\+\+|crypto)\.so' "glibc, libstdc++ and OpenSSL are not bundled"
  run bundled_validate "$recipes/ubuntu-22.04/recipe.sh" --validate --root "$root"
  expect_status 0 "--validate of the bundled install"
else
  echo "note: OPENBATCH_AGENT not set or not built, the bundling check is skipped"
fi
finish
