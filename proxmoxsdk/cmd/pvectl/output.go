package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"golang.org/x/term"
)

// decodeAny decodes JSON keeping integers exact (json.Number → int64 when
// integral).
func decodeAny(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return normalize(v), nil
}

func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	}
	return v
}

// printData prints the API data as JSON, YAML or a table.
func printData(w io.Writer, format string, raw []byte) error {
	v, err := decodeAny(raw)
	if err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("yaml: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		rows := make([]map[string]any, 0, len(x))
		scalars := true
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				rows = append(rows, m)
				scalars = false
			}
		}
		if scalars {
			for _, e := range x {
				fmt.Fprintln(w, scalarText(e))
			}
			return nil
		}
		return printTable(w, rows, nil)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return naturalLess(keys[i], keys[j]) })
		width := termWidth()
		kw := 0
		for _, k := range keys {
			kw = max(kw, utf8.RuneCountInString(k))
		}
		for _, k := range keys {
			val := scalarText(x[k])
			if width > 0 {
				val = truncate(val, max(width-kw-2, 20))
			}
			fmt.Fprintf(w, "%-*s  %s\n", kw, k, val)
		}
		return nil
	default:
		fmt.Fprintln(w, scalarText(x))
		return nil
	}
}

// scalarText renders a value for a table cell: scalars as text, nested
// values as compact JSON, one line.
func scalarText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.ReplaceAll(strings.TrimRight(x, "\n"), "\n", `\n`)
	case json.Number:
		return x.String()
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// leadColumns come first in a table, in this order, when the items have them.
var leadColumns = []string{"vmid", "node", "name", "type", "status", "id", "storage", "content", "volid", "iface", "upid", "subdir"}

// printTable prints rows with the columns every item could fill: lead
// columns first, then the others by name; columns are dropped from the right
// (and long cells shortened) to fit a terminal's width.
func printTable(w io.Writer, rows []map[string]any, first []string) error {
	if len(rows) == 0 {
		return nil
	}
	present := map[string]int{}
	for _, r := range rows {
		for k := range r {
			present[k]++
		}
	}
	var cols []string
	seen := map[string]bool{}
	add := func(c string) {
		if !seen[c] && present[c] > 0 {
			cols = append(cols, c)
			seen[c] = true
		}
	}
	for _, c := range first {
		add(c)
	}
	for _, c := range leadColumns {
		add(c)
	}
	var rest []string
	for k := range present {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, c := range rest {
		add(c)
	}
	width := termWidth()
	cells := make([][]string, len(rows))
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = utf8.RuneCountInString(c)
	}
	const maxCell = 48
	for r, row := range rows {
		cells[r] = make([]string, len(cols))
		for i, c := range cols {
			s := scalarText(row[c])
			if width > 0 {
				s = truncate(s, maxCell)
			}
			cells[r][i] = s
			widths[i] = max(widths[i], utf8.RuneCountInString(s))
		}
	}
	n := len(cols)
	if width > 0 {
		total := 0
		for i := range cols {
			if total+widths[i] > width && i > 0 {
				n = i
				break
			}
			total += widths[i] + 2
		}
	}
	var b strings.Builder
	line := func(vals []string) {
		for i := 0; i < n; i++ {
			if i == n-1 {
				b.WriteString(vals[i])
			} else {
				fmt.Fprintf(&b, "%-*s  ", widths[i], vals[i])
			}
		}
		b.WriteByte('\n')
	}
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = strings.ToUpper(c)
	}
	line(head)
	for _, r := range cells {
		line(r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// termWidth is the width of the terminal on stdout, COLUMNS when set, or 0
// (no limit) when stdout is not a terminal.
func termWidth() int {
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		return c
	}
	if fd := int(os.Stdout.Fd()); term.IsTerminal(fd) {
		if w, _, err := term.GetSize(fd); err == nil && w > 0 {
			return w
		}
	}
	return 0
}

// naturalLess orders "pve2" before "pve10" and "100" before "1000".
func naturalLess(a, b string) bool {
	ai, aerr := strconv.Atoi(a)
	bi, berr := strconv.Atoi(b)
	if aerr == nil && berr == nil {
		return ai < bi
	}
	pa, na := splitNum(a)
	pb, nb := splitNum(b)
	if pa == pb && na >= 0 && nb >= 0 {
		return na < nb
	}
	return a < b
}

func splitNum(s string) (string, int) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if i == len(s) {
		return s, -1
	}
	n, _ := strconv.Atoi(s[i:])
	return s[:i], n
}
