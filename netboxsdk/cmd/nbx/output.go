package main

import (
	"bufio"
	"encoding/csv"
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

// columnOrder ranks the fields a table shows first; a type shows the ones
// its model has, in this order, then nothing else unless --wide.
var columnOrder = []string{
	"id", "name", "address", "prefix", "vid", "cid", "asn", "model", "label",
	"status", "type", "role", "site", "location", "rack", "device", "virtual_machine", "cluster", "group",
	"manufacturer", "device_type", "platform", "tenant", "vrf", "vlan", "parent", "assigned_object",
	"vcpus", "memory", "disk", "size", "primary_ip4", "mode", "mac_address", "enabled", "dns_name",
	"object_types", "slug", "description",
}

// chooseColumns picks the table columns of a collection: the ranked fields
// its response model has (display when it has no name-like field); without a
// model, the ranked keys of the first rows.
func chooseColumns(c *collection, rows []map[string]any, wide bool) []string {
	have := map[string]bool{}
	var order []string
	if c != nil {
		for _, f := range fields(c.Resp) {
			have[f.Name] = true
			order = append(order, f.Name)
		}
	}
	if len(have) == 0 {
		for _, r := range rows {
			for k := range r {
				if !have[k] {
					have[k] = true
					order = append(order, k)
				}
			}
		}
		sort.Strings(order)
	}
	var cols []string
	for _, k := range columnOrder {
		if have[k] {
			cols = append(cols, k)
		}
	}
	if !have["name"] && !have["address"] && !have["prefix"] && !have["model"] && !have["cid"] && have["display"] {
		cols = append([]string{cols[0], "display"}, cols[1:]...)
	}
	if wide {
		in := map[string]bool{}
		for _, c := range cols {
			in[c] = true
		}
		for _, k := range order {
			if !in[k] && k != "url" && k != "display_url" {
				cols = append(cols, k)
			}
		}
	}
	return cols
}

// dropEmpty removes the columns (other than the first two) that no sampled
// row fills: a type's ranked fields include relations many objects leave
// empty.
func dropEmpty(cols []string, rows []map[string]any) []string {
	var out []string
	for i, c := range cols {
		keep := i < 2
		for _, r := range rows {
			if keep {
				break
			}
			keep = cellText(r[c]) != ""
		}
		if keep {
			out = append(out, c)
		}
	}
	return out
}

// cellText renders a value in one line: a related object as its display
// name, a choice as its value, a list joined with commas.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.ReplaceAll(strings.TrimRight(x, "\n"), "\n", `\n`)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case map[string]any:
		for _, k := range []string{"value", "display", "name", "slug", "address", "id"} {
			if e, ok := x[k]; ok && e != nil {
				return cellText(e)
			}
		}
		if len(x) == 0 {
			return ""
		}
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = cellText(e)
		}
		return strings.Join(parts, ",")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// rowWriter writes objects as they arrive.
type rowWriter interface {
	Write(obj map[string]any) error
	Close() error
}

func newRowWriter(w io.Writer, format string, c *collection, columns []string, wide, noHeader bool) rowWriter {
	bw := bufio.NewWriter(w)
	switch format {
	case "json":
		return &jsonRows{w: bw}
	case "yaml":
		return &yamlRows{w: bw}
	case "csv":
		return &csvRows{w: bw, cw: csv.NewWriter(bw), c: c, cols: columns, wide: wide, noHeader: noHeader}
	}
	return &tableRows{w: bw, c: c, cols: columns, wide: wide, width: termWidth(), noHeader: noHeader}
}

type jsonRows struct {
	w *bufio.Writer
	n int
}

func (j *jsonRows) Write(obj map[string]any) error {
	sep := ",\n"
	if j.n == 0 {
		sep = "[\n"
	}
	j.n++
	b, err := json.MarshalIndent(obj, "  ", "  ")
	if err != nil {
		return err
	}
	j.w.WriteString(sep + "  ")
	j.w.Write(b)
	return j.w.Flush()
}

func (j *jsonRows) Close() error {
	if j.n == 0 {
		j.w.WriteString("[]\n")
	} else {
		j.w.WriteString("\n]\n")
	}
	return j.w.Flush()
}

type yamlRows struct {
	w *bufio.Writer
	n int
}

func (y *yamlRows) Write(obj map[string]any) error {
	y.n++
	b, err := yaml.Marshal([]any{obj})
	if err != nil {
		return fmt.Errorf("yaml: %w", err)
	}
	y.w.Write(b)
	return y.w.Flush()
}

func (y *yamlRows) Close() error {
	if y.n == 0 {
		y.w.WriteString("[]\n")
	}
	return y.w.Flush()
}

type csvRows struct {
	w        *bufio.Writer
	cw       *csv.Writer
	c        *collection
	cols     []string
	wide     bool
	noHeader bool
	started  bool
}

func (c *csvRows) Write(obj map[string]any) error {
	if !c.started {
		c.started = true
		if len(c.cols) == 0 {
			c.cols = chooseColumns(c.c, []map[string]any{obj}, c.wide)
		}
		if !c.noHeader {
			c.cw.Write(c.cols)
		}
	}
	rec := make([]string, len(c.cols))
	for i, k := range c.cols {
		rec[i] = cellText(obj[k])
	}
	c.cw.Write(rec)
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return err
	}
	return c.w.Flush()
}

func (c *csvRows) Close() error {
	if !c.started && !c.noHeader && len(c.cols) > 0 {
		c.cw.Write(c.cols)
	}
	c.cw.Flush()
	return c.w.Flush()
}

// tableRows buffers the first rows to size the columns, then prints every
// later row as it arrives with the same widths (longer cells shortened).
type tableRows struct {
	w        *bufio.Writer
	c        *collection
	cols     []string
	wide     bool
	width    int
	noHeader bool
	buf      []map[string]any
	widths   []int
	n        int // columns shown
	started  bool
}

const tableSample = 50

func (t *tableRows) Write(obj map[string]any) error {
	if !t.started {
		t.buf = append(t.buf, obj)
		if len(t.buf) < tableSample {
			return nil
		}
		t.start()
		return t.w.Flush()
	}
	t.line(t.cells(obj))
	return t.w.Flush()
}

func (t *tableRows) cells(obj map[string]any) []string {
	out := make([]string, len(t.cols))
	for i, k := range t.cols {
		out[i] = cellText(obj[k])
	}
	return out
}

func (t *tableRows) start() {
	t.started = true
	if len(t.cols) == 0 {
		t.cols = chooseColumns(t.c, t.buf, t.wide)
		if !t.wide {
			t.cols = dropEmpty(t.cols, t.buf)
		}
	}
	t.widths = make([]int, len(t.cols))
	for i, c := range t.cols {
		t.widths[i] = utf8.RuneCountInString(c)
	}
	rows := make([][]string, len(t.buf))
	for r, obj := range t.buf {
		rows[r] = t.cells(obj)
		for i, s := range rows[r] {
			t.widths[i] = max(t.widths[i], min(utf8.RuneCountInString(s), 48))
		}
	}
	t.n = len(t.cols)
	if t.width > 0 {
		total := 0
		for i := range t.cols {
			if i > 0 && total+t.widths[i] > t.width {
				t.n = i
				break
			}
			total += t.widths[i] + 2
		}
	}
	if !t.noHeader {
		head := make([]string, len(t.cols))
		for i, c := range t.cols {
			head[i] = strings.ToUpper(c)
		}
		t.line(head)
	}
	for _, r := range rows {
		t.line(r)
	}
	t.buf = nil
}

func (t *tableRows) line(vals []string) {
	for i := 0; i < t.n; i++ {
		v := vals[i]
		if i == t.n-1 {
			if t.width > 0 {
				used := 0
				for j := 0; j < i; j++ {
					used += t.widths[j] + 2
				}
				v = truncate(v, max(t.width-used, 8))
			}
			t.w.WriteString(v)
			break
		}
		fmt.Fprintf(t.w, "%-*s  ", t.widths[i], truncate(v, t.widths[i]))
	}
	t.w.WriteByte('\n')
}

func (t *tableRows) Close() error {
	if !t.started && len(t.buf) > 0 {
		t.start()
	}
	return t.w.Flush()
}

func truncate(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// termWidth is the terminal's width on stdout, COLUMNS when set, or 0 (no
// limit) when stdout is not a terminal.
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

// printObject prints one object: a KEY VALUE listing (table), JSON, YAML or
// one CSV row.
func printObject(w io.Writer, format string, c *collection, obj map[string]any, columns []string, wide bool) error {
	switch format {
	case "table":
		keys := columns
		if len(keys) == 0 {
			for k := range obj {
				keys = append(keys, k)
			}
			sort.Strings(keys)
		}
		kw := 0
		for _, k := range keys {
			kw = max(kw, len(k))
		}
		bw := bufio.NewWriter(w)
		width := termWidth()
		for _, k := range keys {
			v := cellText(obj[k])
			if width > 0 {
				v = truncate(v, max(width-kw-2, 20))
			}
			fmt.Fprintf(bw, "%-*s  %s\n", kw, k, v)
		}
		return bw.Flush()
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(obj)
	case "yaml":
		b, err := yaml.Marshal(obj)
		if err != nil {
			return fmt.Errorf("yaml: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	rw := newRowWriter(w, format, c, columns, wide, false)
	if err := rw.Write(obj); err != nil {
		return err
	}
	return rw.Close()
}
