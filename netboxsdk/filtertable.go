package netboxsdk

import (
	"slices"
	"sync"
)

var (
	filterOnce  sync.Once
	filterTable map[string][]string
)

// loadFilterTable copies the generated table (genFilterNames, generated in filters_gen.go) into
// sorted slices for binary search.
func loadFilterTable() {
	filterTable = make(map[string][]string, len(genFilterNames))
	for p, names := range genFilterNames {
		s := slices.Clone(names)
		slices.Sort(s)
		filterTable[p] = slices.Compact(s)
	}
}
