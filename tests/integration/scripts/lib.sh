# shellcheck shell=bash disable=SC2034 # repo, status, out and err are for the tests that source it
# Shared helpers of the script tests (sourced). Each test gets $tmp, removed on exit, and the
# repository root in $repo. `check` counts failures; `finish` exits 1 when any check failed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/openbatch-scripts.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
checks=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# run NAME CMD...: runs CMD, keeping its status in $status and its output in $out/$err.
run() {
  local name=$1
  shift
  status=0
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || status=$?
  out=$(cat "$tmp/$name.out")
  err=$(cat "$tmp/$name.err")
}

# expect_status WANT WHAT: compares $status with WANT ("0", "nonzero" or a number).
expect_status() {
  checks=$((checks + 1))
  local want=$1 what=$2
  if [[ $want == nonzero && $status != 0 ]] || [[ $want == "$status" ]]; then
    pass "$what (status $status)"
  else
    fail "$what: status $status, wanted $want"
    echo "--- stdout:" >&2; echo "$out" >&2; echo "--- stderr:" >&2; echo "$err" >&2
  fi
}

# expect_match TEXT REGEX WHAT
expect_match() {
  checks=$((checks + 1))
  if grep -Eq -- "$2" <<<"$1"; then pass "$3"; else fail "$3: no match for /$2/ in: $1"; fi
}

expect_no_match() {
  checks=$((checks + 1))
  if grep -Eq -- "$2" <<<"$1"; then fail "$3: unexpected /$2/ in: $1"; else pass "$3"; fi
}

# expect_one_line_error WHAT: the failure left exactly one line on stderr.
expect_one_line_error() {
  checks=$((checks + 1))
  local lines
  lines=$(grep -c . <<<"$err" || true)
  if [[ $lines == 1 ]]; then pass "$1: one line on stderr"; else fail "$1: $lines lines on stderr: $err"; fi
}

finish() {
  if ((failures)); then
    echo "$failures of $checks checks FAILED" >&2
    exit 1
  fi
  echo "all $checks checks passed"
}
