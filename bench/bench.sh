#!/usr/bin/env bash
# make bench: scenario benchmarks against the real NetBox (make netbox-up first). S100 and S1000;
# S5000 too outside CI (set CI to skip it, or BENCH_SCENARIOS to choose). Appends rows to
# bench/RESULTS.md and writes the full measurements to bench/out/.
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
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
scenarios="${BENCH_SCENARIOS:-s100,s1000}"
if [ -z "${BENCH_SCENARIOS:-}" ] && [ -z "${CI:-}" ]; then
  scenarios="$scenarios,s5000"
fi
mkdir -p bench/out
go run ./bench/cmd/scenario -scenarios "$scenarios" -results bench/RESULTS.md \
  -json "bench/out/bench-$(date -u +%Y%m%dT%H%M%SZ).json"
