// Command pveschema converts Proxmox VE API viewer data (apidata.js) into
// an OpenAPI 3.0 JSON document. See README.md for every mapping rule.
//
//	go run ./pveschema -in pve-9.1.3-apidata.js -out ../schemas/proxmox/pve-9.1.json -expect 649
//	go run ./pveschema -in https://pve.example:8006/pve-docs/api-viewer/apidata.js -out pve.json
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"regexp"
	"strings"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		slog.Error("pveschema failed", "err", err)
		os.Exit(1)
	}
}

var versionRe = regexp.MustCompile(`(\d+\.\d+(?:\.\d+)?)`)

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("pveschema", flag.ContinueOnError)
	in := fs.String("in", "", "apidata.js: file path or http(s) URL (…/pve-docs/api-viewer/apidata.js)")
	out := fs.String("out", "", "output OpenAPI JSON file (default: stdout)")
	version := fs.String("version", "", "info.version (default: the x.y.z found in the input name)")
	overrides := fs.String("overrides", "", "overrides file applied after conversion (schemas/proxmox/overrides.json)")
	expect := fs.Int("expect", 0, "fail unless exactly this many operations are written (0: no check)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" {
		return errors.New("-in is required")
	}
	start := time.Now()
	src, err := readSource(ctx, *in)
	if err != nil {
		return err
	}
	nodes, err := parseAPIData(src)
	if err != nil {
		return err
	}
	base := path.Base(strings.ReplaceAll(*in, "\\", "/"))
	v := *version
	if v == "" {
		if m := versionRe.FindString(base); m != "" {
			v = m
		} else {
			v = "unknown"
		}
	}
	var ovr *OverrideFile
	if *overrides != "" {
		if ovr, err = LoadOverrides(*overrides); err != nil {
			return err
		}
	}
	doc, st, err := Convert(nodes, Options{Version: v, Source: base, Overrides: ovr})
	printStats(stdout, base, st)
	if err != nil {
		return err
	}
	if *expect > 0 && st.Operations != *expect {
		return fmt.Errorf("expected %d operations, wrote %d", *expect, st.Operations)
	}
	b, err := marshal(doc)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes) in %s\n", *out, len(b), time.Since(start).Round(time.Millisecond))
	return nil
}

// marshal writes the document with sorted keys and two-space indentation,
// so the same input always gives the same bytes.
func marshal(doc map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode OpenAPI: %w", err)
	}
	return buf.Bytes(), nil
}

func printStats(w io.Writer, name string, st Stats) {
	var methods []string
	for _, m := range sortedKeys(st.ByMethod) {
		methods = append(methods, fmt.Sprintf("%s %d", m, st.ByMethod[m]))
	}
	var tol []string
	for _, k := range sortedKeys(st.Tolerant) {
		tol = append(tol, fmt.Sprintf("%s %d", k, st.Tolerant[k]))
	}
	fmt.Fprintf(w, "%s: input (path, method) pairs %d; operations %d (%s); paths %d\n",
		name, st.InputPairs, st.Operations, strings.Join(methods, ", "), st.Paths)
	fmt.Fprintf(w, "  component schemas %d; hoisted enums %d; null returns %d; indexed families %d; placeholder maps %d; oneOf flattened %d; defaults moved %d\n",
		st.Schemas, st.Enums, st.NullReturns, st.IndexedFamilies, st.PlaceholderMaps, st.OneOfs, st.DefaultsMoved)
	fmt.Fprintf(w, "  tolerant response scalars: %s\n", strings.Join(tol, ", "))
	fmt.Fprintf(w, "  overrides applied: %d (added fields %d, corrected types %d, widened types %d)\n",
		st.Overrides["added"]+st.Overrides["corrected"]+st.Overrides["widened"],
		st.Overrides["added"], st.Overrides["corrected"], st.Overrides["widened"])
}
