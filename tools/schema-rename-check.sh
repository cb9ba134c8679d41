#!/usr/bin/env bash
# Shows that proxboxd builds its desired NetBox state as the generated types:
# on a copy of the repository, one field proxboxd manages is renamed in the
# NetBox schema (WritableVirtualMachineRequest.vcpus -> virtual_cpus), the
# client is regenerated (tools/gennetbox, as `make generate` does), and
# `go build ./proxboxd/...` must fail naming the vanished field. The same copy
# unchanged must build (the control), so the failure is the rename's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

git -C "$root" ls-files -z -- schemas netboxsdk proxmoxsdk proxboxd go.work.sum |
	tar -C "$root" --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$tmp" -xf -
printf 'go %s\n\nuse (\n\t./netboxsdk\n\t./proxmoxsdk\n\t./proxboxd\n)\n' \
	"$(sed -n 's/^go //p' "$root/go.work")" >"$tmp/go.work"

build() { (cd "$tmp" && GOFLAGS=-buildvcs=false go build ./proxboxd/... 2>&1); }

if ! out=$(build); then
	echo "$out"
	echo "schema-rename-check: the unchanged copy does not build" >&2
	exit 1
fi
echo "ok   control: the unchanged copy builds"

schema=$(ls "$tmp"/schemas/netbox/netbox-*.json | tail -n 1)
python3 - "$schema" <<'PY'
import json, sys
path = sys.argv[1]
doc = json.load(open(path))
props = doc["components"]["schemas"]["WritableVirtualMachineRequest"]["properties"]
assert "vcpus" in props, "vcpus is not a property of WritableVirtualMachineRequest"
props["virtual_cpus"] = props.pop("vcpus")
json.dump(doc, open(path, "w"), indent=2, sort_keys=True)
PY
(cd "$here" && go run ./gennetbox -q -root "$tmp")

if out=$(build); then
	echo "schema-rename-check: FAIL: go build ./proxboxd/... passed after vcpus was renamed in the schema" >&2
	exit 1
fi
if ! grep -q 'Vcpus' <<<"$out"; then
	echo "$out"
	echo "schema-rename-check: FAIL: the build failed, but not on the renamed field" >&2
	exit 1
fi
echo "ok   renamed vcpus -> virtual_cpus in the schema: go build ./proxboxd/... fails:"
grep 'Vcpus' <<<"$out" | sed -e "s|$tmp/||g" -e 's/^/       /'
