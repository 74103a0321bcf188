#!/usr/bin/env bash
# start_tasks/install-nvidia-driver.sh in fixture mode (OPENBATCH_GPU_INVENTORY): installs the
# GPUDriver 411.82 package built by tests/fixtures/packages/make-gpudriver-zip.sh over an
# inventory that says 535.104.05, is idempotent, and fails clearly on a missing package or an
# installer that installs the wrong version.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

script=$repo/start_tasks/install-nvidia-driver.sh
make_zip=$repo/tests/fixtures/packages/make-gpudriver-zip.sh
if ! command -v zip >/dev/null 2>&1 || ! command -v unzip >/dev/null 2>&1; then
  echo "SKIPPED: zip/unzip not installed"
  exit 77
fi

inventory=$tmp/inventory.json
cp "$repo/tests/fixtures/gpu/8x_h100.json" "$inventory"
driver_version() { sed -n 's/.*"gpuDriverVersion": *"\([^"]*\)".*/\1/p' "$inventory"; }
installer_runs() { cat "$tmp"/startup/nvidia-installer-*.log 2>/dev/null | grep -c 'stand-in NVIDIA installer' || true; }

# The application package as the node agent would extract it.
run zip "$make_zip" 411.82 "$tmp/gpudriver-411.82.zip"
expect_status 0 "make-gpudriver-zip.sh 411.82"
mkdir -p "$tmp/apps/gpudriver41182"
(cd "$tmp/apps/gpudriver41182" && unzip -q "$tmp/gpudriver-411.82.zip")
checks=$((checks + 1))
[[ -x $tmp/apps/gpudriver41182/NVIDIA-Linux-x86_64-411.82.run ]] \
  || fail "the zip does not hold an executable NVIDIA-Linux-x86_64-411.82.run"

export OPENBATCH_GPU_INVENTORY=$inventory
export AZ_BATCH_NODE_STARTUP_DIR=$tmp/startup
export AZ_BATCH_APP_PACKAGE_GPUDriver_411_82=$tmp/apps/gpudriver41182

# 1. installs over 535.104.05, found through the app package variable.
run install1 "$script" 411.82
expect_status 0 "install 411.82 over 535.104.05"
checks=$((checks + 1))
[[ $(driver_version) == 411.82 ]] || fail "inventory says '$(driver_version)', not 411.82"
expect_match "$out" 'installed' "reports the install"
checks=$((checks + 1))
[[ $(installer_runs) == 1 ]] || fail "installer ran $(installer_runs) times, not once"
# The other GPUs are still there (only the version changed).
checks=$((checks + 1))
[[ $(grep -c '"uuid"' "$inventory") == 8 ]] || fail "the inventory lost GPUs"
expect_match "$(cat "$tmp"/startup/nvidia-installer-411.82.log)" '--silent --no-questions --ui=none' \
  "the installer got the silent flags"

# 2. idempotent: already installed, the installer does not run again.
run install2 "$script" 411.82
expect_status 0 "second run"
expect_match "$out" 'already installed' "second run says already installed"
checks=$((checks + 1))
[[ $(installer_runs) == 1 ]] || fail "installer ran again ($(installer_runs) runs)"

# 3. the lowercase variable spelling works too.
unset AZ_BATCH_APP_PACKAGE_GPUDriver_411_82
export AZ_BATCH_APP_PACKAGE_gpudriver_411_82=$tmp/apps/gpudriver41182
cp "$repo/tests/fixtures/gpu/8x_h100.json" "$inventory"
run install3 "$script" 411.82
expect_status 0 "install through AZ_BATCH_APP_PACKAGE_gpudriver_411_82"
checks=$((checks + 1))
[[ $(installer_runs) == 2 ]] || fail "installer did not run through the lowercase variable"

# 4. 470.01 asked, only the 411.82 package present.
run missing "$script" 470.01 --package-dir "$tmp/apps/gpudriver41182"
expect_status 1 "470.01 with only the 411.82 package"
expect_match "$err" 'NVIDIA-Linux-x86_64-470.01.run not found in .*gpudriver41182.*411\.82\.run' \
  "names the missing installer and what is there"
expect_one_line_error "missing installer"
run novar "$script" 470.01
expect_status 1 "470.01 with no package variable"
expect_match "$err" 'AZ_BATCH_APP_PACKAGE_GPUDriver_470_01 is not set' "names the variable"
checks=$((checks + 1))
[[ $(driver_version) == 411.82 ]] || fail "a failed install changed the inventory"

# 5. an installer that installs the wrong driver.
run zip2 "$make_zip" 999.1 "$tmp/gpudriver-999.1.zip" --installs 411.82
expect_status 0 "make-gpudriver-zip.sh 999.1 --installs 411.82"
mkdir -p "$tmp/apps/wrong"
(cd "$tmp/apps/wrong" && unzip -q "$tmp/gpudriver-999.1.zip")
run wrong "$script" 999.1 --package-dir "$tmp/apps/wrong"
expect_status 1 "installer that installs the wrong version"
expect_match "$err" 'driver 411\.82 found, 999\.1 required' "says which driver it found"
expect_one_line_error "wrong version"

# 6. no inventory file yet: the stand-in creates one with one GPU.
rm -f "$inventory"
run create "$script" 411.82 --package-dir "$tmp/apps/gpudriver41182" --log "$tmp/create.log"
expect_status 0 "install with no inventory file"
checks=$((checks + 1))
[[ $(driver_version) == 411.82 && $(grep -c '"uuid"' "$inventory") == 1 ]] \
  || fail "created inventory is wrong: $(cat "$inventory" 2>/dev/null)"

# 7. a major-only version accepts any x.y of that major.
run major "$script" 411 --package-dir "$tmp/apps/gpudriver41182"
expect_status 0 "VERSION 411 accepts 411.82"
expect_match "$out" 'already installed' "major-only match"

# 8. usage errors.
run usage "$script"
expect_status 2 "no VERSION"
run usage2 "$script" 4x1
expect_status 2 "bad VERSION"
run help "$script" --help
expect_status 0 "--help"
expect_match "$out" 'install-nvidia-driver.sh VERSION' "--help shows the usage"
run distro "$script" 470.01 --distro
expect_status 1 "--distro refused in fixture mode"
expect_match "$err" "fixture mode" "--distro says why"
finish
