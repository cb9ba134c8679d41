#!/usr/bin/env bash
# Regenerates both clients (tools/genpve, tools/gennetbox) into a temporary copy
# of schemas/, netboxsdk/ and proxmoxsdk/ and fails if any generated file differs
# from the checked-in one, is missing, or is stale; then checks that every file
# marked linguist-generated in .gitattributes starts with the standard
# `// Code generated ... DO NOT EDIT.` line.
#
# Usage: tools/verify-generate.sh [ROOT]   (ROOT: repository to check, default: this one)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "${1:-$here/..}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# want: the files as checked in (tracked files when ROOT is a git work tree).
mkdir -p "$tmp/want" "$tmp/got"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$root" ls-files -z -- schemas netboxsdk proxmoxsdk |
		tar -C "$root" --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$tmp/want" -xf -
else
	cp -a "$root/schemas" "$root/netboxsdk" "$root/proxmoxsdk" "$tmp/want/"
fi
# got: the same tree with every generated file removed, then regenerated.
cp -a "$tmp/want/." "$tmp/got/"
find "$tmp/got/netboxsdk" "$tmp/got/proxmoxsdk" -type f \( -name '*.gen.go' -o -name '*_gen.go' \) -delete

(cd "$here" && go run ./genpve -schemas "$tmp/got/schemas/proxmox" -sdk "$tmp/got/proxmoxsdk" >/dev/null)
(cd "$here" && go run ./gennetbox -q -root "$tmp/got")

if ! diff -r "$tmp/want/netboxsdk" "$tmp/got/netboxsdk" >"$tmp/diff" ||
	! diff -r "$tmp/want/proxmoxsdk" "$tmp/got/proxmoxsdk" >>"$tmp/diff"; then
	sed -e "s|$tmp/want/||g; s|$tmp/got/||g" "$tmp/diff" | head -n 40
	echo "verify-generate: the generated code is not what \`make generate\` writes from schemas/" >&2
	echo "  (run \`make generate\` and commit the result; never edit generated files)" >&2
	exit 1
fi

# Marker line: first line of every file .gitattributes marks as generated
# (ROOT's attributes, or this repository's when ROOT is a plain copy).
attrs=$root
git -C "$attrs" rev-parse --is-inside-work-tree >/dev/null 2>&1 || attrs=$here/..
bad=0
while IFS= read -r f; do
	case "$f" in *.go) ;; *) continue ;; esac
	if ! head -n 1 "$tmp/want/$f" | grep -qE '^// Code generated .* DO NOT EDIT\.$'; then
		echo "verify-generate: $f: first line is not \`// Code generated ... DO NOT EDIT.\`" >&2
		bad=1
	fi
done < <(cd "$tmp/want" && find netboxsdk proxmoxsdk -type f | sort |
	git -C "$attrs" check-attr --stdin linguist-generated | sed -n 's/: linguist-generated: true$//p')
[ "$bad" = 0 ] || exit 1
echo "verify-generate: generated code is up to date"
