package pvetypes

import (
	"encoding/json"
	"errors"
)

// A minimal scanner over JSON that is already known to be valid (it was
// decoded, or checked with json.Valid): it finds the members of an object
// and the elements of an array without decoding them, much faster than
// encoding/json and without allocating.

var errScan = errors.New("pvetypes: malformed JSON")

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'
// and whether it contains an escape. A byte loop: PVE's strings (keys,
// names, ids) are short, where it beats two bytes.IndexByte calls.
func skipString(b []byte, i int) (int, bool, error) {
	esc := false
	for i++; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i + 1, esc, nil
		case '\\':
			esc = true
			i++
		}
	}
	return 0, false, errScan
}

// endOfLiteral marks the bytes that end a number or a literal.
var endOfLiteral = [256]bool{',': true, '}': true, ']': true, ' ': true, '\t': true, '\n': true, '\r': true}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errScan
	}
	switch b[i] {
	case '"':
		j, _, err := skipString(b, i)
		return j, err
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				j, _, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = j
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errScan
	default:
		for i < len(b) && !endOfLiteral[b[i]] {
			i++
		}
		return i, nil
	}
}

// memberKey reads the key and the colon of the object member at data[i]
// and returns the key (unescaped) and the index of the member's value.
func memberKey(data []byte, i int) (key []byte, val int, err error) {
	if i >= len(data) || data[i] != '"' {
		return nil, 0, errScan
	}
	j, esc, err := skipString(data, i)
	if err != nil {
		return nil, 0, err
	}
	key = data[i+1 : j-1]
	if esc {
		var s string
		if json.Unmarshal(data[i:j], &s) != nil {
			return nil, 0, errScan
		}
		key = []byte(s)
	}
	if j = skipSpace(data, j); j >= len(data) || data[j] != ':' {
		return nil, 0, errScan
	}
	return key, skipSpace(data, j+1), nil
}

// nextItem moves past the separator that follows a member or element
// ending at end: the index of the next one, or of the closing bracket.
func nextItem(data []byte, end int) int {
	i := skipSpace(data, end)
	if i < len(data) && data[i] == ',' {
		return skipSpace(data, i+1)
	}
	return i
}

// eachMember calls fn for every member of the object obj with its key
// (unescaped), its value and the whole member text ("key":value). fn
// returns false to stop. A non-object is an error.
func eachMember(obj []byte, fn func(key, val, member []byte) bool) error {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return errScan
	}
	for i = skipSpace(obj, i+1); i < len(obj) && obj[i] != '}'; {
		key, v, err := memberKey(obj, i)
		if err != nil {
			return err
		}
		end, err := skipValue(obj, v)
		if err != nil {
			return err
		}
		if !fn(key, obj[v:end], obj[i:end]) {
			return nil
		}
		i = nextItem(obj, end)
	}
	if i >= len(obj) {
		return errScan
	}
	return nil
}

// eachElement calls fn for every element of the array arr; fn returns
// false to stop. A non-array is an error.
func eachElement(arr []byte, fn func(el []byte) bool) error {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return errScan
	}
	for i = skipSpace(arr, i+1); i < len(arr) && arr[i] != ']'; {
		end, err := skipValue(arr, i)
		if err != nil {
			return err
		}
		if !fn(arr[i:end]) {
			return nil
		}
		i = nextItem(arr, end)
	}
	if i >= len(arr) {
		return errScan
	}
	return nil
}
