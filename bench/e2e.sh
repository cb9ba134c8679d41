#!/usr/bin/env bash
# make e2e: end-to-end tests against the real NetBox of tools/netbox-dev (make netbox-up first;
# the Makefile target depends on it). Replays the netbox-proxbox plugin's Full update job against
# proxboxd (bench/e2e), then the fault tests; writes bench/out/e2e-report.json.
set -euo pipefail
cd "$(dirname "$0")/.."
ENV_FILE=.netbox/env
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
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
mkdir -p bench/out
export E2E_REPORT="${E2E_REPORT:-$PWD/bench/out/e2e-report.json}"
echo "== bench/e2e against $NETBOX_URL (report: $E2E_REPORT)"
(cd bench && go test -count=1 -v -timeout "${E2E_TIMEOUT:-90m}" ${E2E_RUN:+-run "$E2E_RUN"} ./e2e/)
