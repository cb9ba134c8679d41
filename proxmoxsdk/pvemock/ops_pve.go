package pvemock

import (
	"encoding/json"

	"github.com/proxbox-go/proxbox/proxmoxsdk/gen/pve"
)

// The generated table of every operation of PVE 8.1 ∪ 9.1.
func init() {
	ops := make([]Operation, 0, len(pve.Operations))
	for _, o := range pve.Operations {
		op := Operation{Method: o.Method, Path: o.Path, Versions: o.Versions}
		if o.Returns != "" {
			op.Returns = json.RawMessage(o.Returns)
		}
		ops = append(ops, op)
	}
	RegisterOperations(ops)
}
