#!/usr/bin/env bash
# Runs every Go fuzz target of the workspace for a short time (default 5s each).
# Seed corpora live in each package's testdata/fuzz/<FuzzName>/ and also run as
# ordinary tests in `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-5s}
status=0
count=0
for mod in netboxsdk proxmoxsdk proxboxd tools bench; do
  [ -d "$mod" ] || continue
  # file:func pairs of every `func FuzzXxx(f *testing.F)` in the module.
  while IFS= read -r line; do
    file=${line%%:*}
    name=$(sed -E 's/.*func (Fuzz[A-Za-z0-9_]+)\(.*/\1/' <<<"${line#*:}")
    pkg=./$(dirname "${file#"$mod"/}")
    echo "== fuzz $mod $pkg $name ($fuzztime)"
    count=$((count + 1))
    if ! (cd "$mod" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"); then
      echo "FAIL: fuzz target $mod $pkg $name"
      status=1
    fi
  done < <(grep -rHE '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' --include='*_test.go' "$mod" | sed -E 's/^([^:]+):(.*)$/\1:\2/')
done
echo "fuzz: $count targets run, status $status"
exit $status
