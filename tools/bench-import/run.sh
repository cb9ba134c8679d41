#!/usr/bin/env bash
# make bench-import: what importing an SDK costs a new program. Builds each
# program of bench/importcost from an empty build cache (GOCACHE is a fresh
# temporary directory, so the standard library is compiled too) and prints
# CPU-seconds (user+sys of go build and every compiler/linker it ran) and the
# peak RSS of the largest of those processes, as ratios to the standard-library
# baseline measured in the same run. Fails if the one-app importer misses the
# target: (CPU-s - baseline CPU-s) / baseline CPU-s <= 0.5 and peak RSS <= 0.4 GB.
#
#   stdlib   the baseline: the same VM count with net/http + encoding/json
#   nbcore   netboxsdk only (untyped collections; what proxboxd imports)
#   nbvirt   netboxsdk + one app (gen/virtualization): the one-app importer
#   nbtyped  the whole fluent client (netboxsdk/typed: every app)
#   pvenav   proxmoxsdk's navigator (+ gen/pve)
set -euo pipefail
cd "$(dirname "$0")/../../bench"
progs=${BENCH_IMPORT_PROGS:-stdlib nbcore nbvirt nbtyped pvenav}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for p in $progs; do
	mkdir -p "$tmp/cache-$p"
	/usr/bin/time -f '%U %S %M %e' -o "$tmp/$p.time" \
		env GOCACHE="$tmp/cache-$p" GOFLAGS=-buildvcs=false go build -o "$tmp/$p.bin" "./importcost/$p"
	rm -rf "$tmp/cache-$p"
done

awk -v progs="$progs" -v dir="$tmp" '
BEGIN {
	n = split(progs, p, " ")
	for (i = 1; i <= n; i++) {
		f = dir "/" p[i] ".time"
		getline line < f
		split(line, v, " ")
		cpu[i] = v[1] + v[2]; rss[i] = v[3] / 1048576; wall[i] = v[4]
		if (p[i] == "stdlib") base = i
	}
	printf "%-8s %8s %10s %11s %9s %7s\n", "program", "CPU-s", "extra/base", "peak RSS GB", "RSS/base", "wall-s"
	for (i = 1; i <= n; i++)
		printf "%-8s %8.1f %10.2f %11.2f %9.2f %7.1f\n", p[i], cpu[i], (cpu[i] - cpu[base]) / cpu[base], rss[i], rss[i] / rss[base], wall[i]
	for (i = 1; i <= n; i++) if (p[i] == "nbvirt") {
		x = (cpu[i] - cpu[base]) / cpu[base]
		ok = x <= 0.5 && rss[i] <= 0.4
		printf "one-app importer (nbvirt): extra CPU %.2f (target <= 0.5), peak RSS %.2f GB (target <= 0.4): %s\n", x, rss[i], ok ? "PASS" : "FAIL"
		exit ok ? 0 : 1
	}
}'
