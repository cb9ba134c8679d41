// Command gennetbox generates the NetBox client packages of netboxsdk from a NetBox
// OpenAPI schema dumped by tools/netboxschema.
//
// It pre-processes the schema in memory (see preprocess.go and README.md), splits it
// into one spec per NetBox app plus a shared "common" spec, runs oapi-codegen's
// library on each, and writes:
//
//	netboxsdk/gen/<app>/<app>.gen.go   one package per app, and gen/common
//	netboxsdk/apps_gen.go              fluent wiring (nb.DCIM.Devices, ...)
//	netboxsdk/filters_gen.go           filter names per collection (strict mode)
//
// Usage (from the tools directory): go run ./gennetbox [-schema FILE] [-root DIR]
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gennetbox:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("gennetbox", flag.ContinueOnError)
	root := fs.String("root", "..", "repository root (holds schemas/ and netboxsdk/)")
	schema := fs.String("schema", "", "NetBox schema file (JSON or YAML); default: newest schemas/netbox/netbox-*.json")
	quiet := fs.Bool("q", false, "print only errors")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelError
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	start := time.Now()
	path := *schema
	if path == "" {
		p, err := newestSchema(filepath.Join(*root, "schemas", "netbox"))
		if err != nil {
			return err
		}
		path = p
	}
	doc, err := loadDoc(path)
	if err != nil {
		return err
	}
	g, err := newGenerator(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	log.Info("schema loaded", "file", filepath.Base(path), "version", g.version, "operations", g.opCount, "paths", len(g.paths))

	if err := g.preprocess(); err != nil {
		return fmt.Errorf("pre-process: %w", err)
	}
	specs, err := g.split()
	if err != nil {
		return fmt.Errorf("split: %w", err)
	}
	sdk := filepath.Join(*root, "netboxsdk")
	files, err := g.generateClients(specs, log)
	if err != nil {
		return err
	}
	fluent, err := g.generateFluent()
	if err != nil {
		return fmt.Errorf("fluent wiring: %w", err)
	}
	for name, data := range fluent {
		files[name] = data
	}
	if err := writeTree(sdk, files); err != nil {
		return err
	}
	log.Info("done", "files", len(files), "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

var schemaName = regexp.MustCompile(`^netbox-(\d+(?:\.\d+)*)\.json$`)

// newestSchema returns the schemas/netbox/netbox-<version>.json with the highest version.
func newestSchema(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("schema directory: %w", err)
	}
	type cand struct {
		name string
		ver  []int
	}
	var cs []cand
	for _, e := range entries {
		m := schemaName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		var ver []int
		for _, p := range strings.Split(m[1], ".") {
			n, _ := strconv.Atoi(p)
			ver = append(ver, n)
		}
		cs = append(cs, cand{e.Name(), ver})
	}
	if len(cs) == 0 {
		return "", errors.New("no netbox-<version>.json in " + dir + " (run `make schemas` or pass -schema)")
	}
	sort.Slice(cs, func(i, j int) bool { return versionLess(cs[i].ver, cs[j].ver) })
	return filepath.Join(dir, cs[len(cs)-1].name), nil
}

func versionLess(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// writeTree writes files (paths relative to dir) and removes stale generated
// packages under gen/ so that a renamed app does not leave old code behind.
func writeTree(dir string, files map[string][]byte) error {
	genDir := filepath.Join(dir, "gen")
	keep := map[string]bool{}
	for name := range files {
		keep[filepath.Join(dir, filepath.FromSlash(name))] = true
	}
	if err := filepath.WalkDir(genDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".gen.go") && !keep[p] {
			return os.Remove(p)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("clean %s: %w", genDir, err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if old, err := os.ReadFile(p); err == nil && string(old) == string(files[n]) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			return err
		}
	}
	// Remove empty package directories left by the clean-up.
	entries, _ := os.ReadDir(genDir)
	for _, e := range entries {
		if e.IsDir() {
			_ = removeEmptyDirs(filepath.Join(genDir, e.Name()))
		}
	}
	return nil
}

func removeEmptyDirs(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			_ = removeEmptyDirs(filepath.Join(dir, e.Name()))
		}
	}
	entries, err = os.ReadDir(dir)
	if err == nil && len(entries) == 0 {
		return os.Remove(dir)
	}
	return nil
}
