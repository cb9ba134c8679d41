#!/usr/bin/env bash
# Tests tools/verify-generate.sh: on a copy of the repository where one
# character of a generated file is changed (one file of each generator), it
# must fail and name the file; where a stale generated file is added, too.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

copy() {
	rm -rf "$tmp/repo" && mkdir -p "$tmp/repo"
	git -C "$root" ls-files -z -- schemas netboxsdk proxmoxsdk |
		tar -C "$root" --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$tmp/repo" -xf -
}

# expect_fail NAME FILE: verify-generate on the copy must fail and mention FILE.
expect_fail() {
	if bash "$here/verify-generate.sh" "$tmp/repo" >"$tmp/out" 2>&1; then
		cat "$tmp/out"
		echo "FAIL $1: verify-generate passed" >&2
		exit 1
	fi
	if ! grep -q "$2" "$tmp/out" || ! grep -q 'not what `make generate` writes' "$tmp/out"; then
		cat "$tmp/out"
		echo "FAIL $1: verify-generate failed without naming $2 as regenerated differently" >&2
		exit 1
	fi
	echo "ok   $1"
}

# mutate FILE: change one character (the first 'a' of line 40 becomes 'b').
mutate() {
	local f=$tmp/repo/$1
	sed -i '40s/a/b/' "$f"
	cmp -s "$f" "$root/$1" && { echo "mutate $1: nothing changed" >&2; exit 1; }
	return 0
}

copy
mutate netboxsdk/gen/virtualization/virtualization.gen.go
expect_fail "one character of a gennetbox file" netboxsdk/gen/virtualization/virtualization.gen.go

copy
mutate proxmoxsdk/gen/pve/operations.gen.go
expect_fail "one character of a genpve file" proxmoxsdk/gen/pve/operations.gen.go

copy
cp "$tmp/repo/netboxsdk/gen/core/core.gen.go" "$tmp/repo/netboxsdk/gen/core/stale.gen.go"
expect_fail "a stale generated file" netboxsdk/gen/core
