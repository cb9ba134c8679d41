package proxmoxsdk

// Runtime helpers of the generated navigator (nav_gen.go). They are
// hand-written; tools/genpve's template only stamps the generated methods.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/proxbox-go/proxbox/proxmoxsdk/pvetypes"
)

// navParams turns a typed parameter pointer into Call's params; nil stays
// an untyped nil.
func navParams[T any](p *T) any {
	if p == nil {
		return nil
	}
	return p
}

// navList decodes the list raw into *out (a pointer to a slice of
// generated models): the whole list at once, into a slice presized to the
// item count, when it decodes cleanly (pvetypes.Prescan counts the items
// and finds the keys without a field in one allocation-free pass; only when
// there are some, pvetypes.CaptureExtra stores them in the models' Extra);
// otherwise item by item like DecodeListInto
// (pvetypes.Unmarshal per item), so a field that does not decode is kept raw
// in its item's Extra and reported, and the item is kept. Each item with such
// fields is reported as an *ItemError wrapping its *pvetypes.FieldError
// values, all joined into the returned error. Only an item that is not a
// JSON object at all (or, for lists of scalars, does not decode) is
// skipped. One reflective helper instead of a generic one keeps the
// package small to compile (no instantiation per item type).
func navList(raw json.RawMessage, err error, out any) error {
	if err != nil {
		return err
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
		return nil
	}
	sv := reflect.ValueOf(out).Elem()
	// One allocation-free pass counts the items (the slice is allocated
	// once) and tells whether any key needs an Extra; only then a second
	// pass stores them after the decode.
	n, extra := pvetypes.Prescan(raw, out)
	fresh := reflect.New(sv.Type())
	fresh.Elem().Set(reflect.MakeSlice(sv.Type(), 0, n))
	if json.Unmarshal(raw, fresh.Interface()) == nil {
		sv.Set(fresh.Elem())
		if extra {
			pvetypes.CaptureExtra(raw, out)
		}
		return nil
	}
	return DecodeListInto(raw, out)
}

// navDecode decodes a non-list result into out with pvetypes.Unmarshal:
// keys without a field are kept in the models' Extra, and a field that does
// not decode is kept raw there and reported as a *pvetypes.FieldError (out
// still holds everything else).
func navDecode(raw json.RawMessage, err error, out any) error {
	if err != nil {
		return err
	}
	if isNull(raw) {
		return nil
	}
	if err := pvetypes.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("proxmox: decode data: %w", err)
	}
	return nil
}
