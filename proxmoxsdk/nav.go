package proxmoxsdk

// Runtime helpers of the generated navigator (nav_gen.go). They are
// hand-written; tools/genpve's template only stamps the generated methods.

import (
	"bytes"
	"encoding/json"
	"errors"
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
// otherwise item by item with
// pvetypes.Unmarshal, so a field that does not decode is kept raw in its
// item's Extra and reported, and the item is kept. Each item with such
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
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return fmt.Errorf("proxmox: data is not a list: %w", err)
	}
	st := sv.Type()
	s := reflect.MakeSlice(st, 0, len(items))
	var errs []error
	for i, it := range items {
		v := reflect.New(st.Elem())
		if err := pvetypes.Unmarshal(it, v.Interface()); err != nil {
			errs = append(errs, &ItemError{Index: i, Raw: it, Err: err})
			if !keepItem(err) {
				continue
			}
		}
		s = reflect.Append(s, v.Elem())
	}
	sv.Set(s)
	return errors.Join(errs...)
}

// keepItem reports whether an item whose decode failed with err still holds
// its data: true when every error is a *pvetypes.FieldError below the item
// (the item is an object; the field is kept raw in its Extra).
func keepItem(err error) bool {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	for _, e := range list {
		fe, ok := e.(*pvetypes.FieldError)
		if !ok || fe.Path == "" {
			return false
		}
	}
	return true
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
