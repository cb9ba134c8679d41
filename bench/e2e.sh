#!/usr/bin/env bash
# make e2e: end-to-end tests against the real NetBox of tools/netbox-dev (the Makefile target runs
# `make netbox-up` first). Resets NetBox to its freshly migrated state (E2E_NO_RESET=1 skips that),
# replays the netbox-proxbox plugin's Full update job against proxboxd (bench/e2e), drives the
# plugin's own job when the plugin is installed, runs the fault tests, and prints a summary. The
# netboxsdk conformance suite and the nbx CLI test run first (against the same NetBox) unless E2E_RUN
# picks tests.
# Writes bench/out/e2e-report.json and bench/out/e2e.log.
#   E2E_RUN=<regexp>    pick tests (go test -run)
#   E2E_TIMEOUT=<dur>   go test timeout (default 60m)
set -euo pipefail
cd "$(dirname "$0")/.."
ENV_FILE="${NETBOX_DEV_DIR:-.netbox}/env" # the harness writes it next to its install
if [ -z "${NETBOX_URL:-}" ] || [ -z "${NETBOX_TOKEN:-}" ]; then
  if [ -f "$ENV_FILE" ]; then
    set -a
    # shellcheck disable=SC1090
    source "$ENV_FILE"
    set +a
  else
    echo "no NetBox: run \`make netbox-up\` and source .netbox/env (or use make e2e)" >&2
    exit 1
  fi
fi
if [ -z "${E2E_NO_RESET:-}" ]; then
  echo "== resetting NetBox (make netbox-reset)"
  bash tools/netbox-dev/netbox.sh reset
  if [ -f "$ENV_FILE" ]; then
    set -a
    # shellcheck disable=SC1090
    source "$ENV_FILE"
    set +a
  fi
fi
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
mkdir -p bench/out
export E2E_REPORT="${E2E_REPORT:-$PWD/bench/out/e2e-report.json}"
LOG="$PWD/bench/out/e2e.log"
start=$(date +%s)
rc=0
: >"$LOG"
if [ -z "${E2E_RUN:-}" ] || [ -n "${E2E_CONFORMANCE:-}" ]; then
  # the netboxsdk conformance suite, unchanged from make test, against the real NetBox
  echo "== netboxsdk conformance against $NETBOX_URL" | tee -a "$LOG"
  (cd netboxsdk && go test -count=1 -v -timeout 30m -run '^TestRealNetBox$' ./conformance/) 2>&1 | tee -a "$LOG" || rc=$?
  # the nbx command line against the same NetBox (objects with a unique slug prefix, removed after)
  echo "== nbx against $NETBOX_URL" | tee -a "$LOG"
  (cd netboxsdk && go test -count=1 -v -timeout 10m -run '^TestRealNetBoxNBX$' ./cmd/nbx/) 2>&1 | tee -a "$LOG" || rc=$?
fi
echo "== bench/e2e against $NETBOX_URL (report: $E2E_REPORT, log: $LOG)" | tee -a "$LOG"
(cd bench && go test -count=1 -v -timeout "${E2E_TIMEOUT:-60m}" ${E2E_RUN:+-run "$E2E_RUN"} ./e2e/) 2>&1 | tee -a "$LOG" || rc=$?
echo
echo "== e2e summary ($(( $(date +%s) - start ))s, exit $rc)"
grep -E '^\s*--- (PASS|FAIL|SKIP)' "$LOG" | sed -E 's/^\s+//' || echo "no test results (build failure or timeout: see $LOG)"
if grep -q '^panic: test timed out' "$LOG"; then
  echo "TIMEOUT: $(grep -m1 '^panic: test timed out' "$LOG")"
fi
exit "$rc"
