// Command netboxschema dumps the OpenAPI schema of a live NetBox to
// schemas/netbox/netbox-<version>.json.
//
// Usage (from the tools module):
//
//	go run ./netboxschema -url http://127.0.0.1:8080 -token TOKEN -out ../schemas/netbox
//
// -url and -token default to the NETBOX_URL and NETBOX_TOKEN environment
// variables. The token is sent as "Token <t>" for v1 tokens and as
// "Bearer <t>" for v2 tokens (nbt_<key>.<secret>); it is never printed.
//
// The document is re-encoded with sorted keys and two-space indentation so
// that two dumps of the same NetBox produce identical bytes.
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
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		slog.Error("netboxschema failed", "err", err)
		os.Exit(1)
	}
}

// config holds the command-line settings.
type config struct {
	URL     string
	Token   string
	Out     string
	Timeout time.Duration
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("netboxschema", flag.ContinueOnError)
	fs.StringVar(&c.URL, "url", os.Getenv("NETBOX_URL"), "NetBox base URL (default $NETBOX_URL)")
	fs.StringVar(&c.Token, "token", os.Getenv("NETBOX_TOKEN"), "NetBox API token, v1 or v2 nbt_… (default $NETBOX_TOKEN)")
	fs.StringVar(&c.Out, "out", "../schemas/netbox", "output directory")
	fs.DurationVar(&c.Timeout, "timeout", 5*time.Minute, "overall timeout")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if c.URL == "" {
		return c, errors.New("no NetBox URL: pass -url or set NETBOX_URL")
	}
	if c.Token == "" {
		return c, errors.New("no NetBox token: pass -token or set NETBOX_TOKEN")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("bad NetBox URL %q: want http(s)://host[:port]", c.URL)
	}
	c.URL = strings.TrimRight(c.URL, "/")
	return c, nil
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	d := &dumper{base: cfg.URL, token: cfg.Token, http: &http.Client{}}
	res, err := d.dump(ctx, cfg.Out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: NetBox %s, %d paths, %d operations (%d plugin paths, %d plugin operations)\n",
		res.File, res.Version, res.Paths, res.Operations, res.PluginPaths, res.PluginOperations)
	return nil
}

type dumper struct {
	base  string
	token string
	http  *http.Client
}

// result describes one written schema file.
type result struct {
	File             string
	Version          string
	Paths            int
	Operations       int
	PluginPaths      int
	PluginOperations int
}

func (d *dumper) dump(ctx context.Context, outDir string) (*result, error) {
	version, err := d.statusVersion(ctx)
	if err != nil {
		slog.Warn("cannot read version from /api/status/, using the schema's info.version", "err", err)
	}
	raw, err := d.get(ctx, "/api/schema/?format=json")
	if err != nil {
		return nil, fmt.Errorf("fetch schema: %w", err)
	}
	doc, err := decode(raw)
	if err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	if version == "" {
		version = infoVersion(doc)
	}
	version, err = cleanVersion(version)
	if err != nil {
		return nil, err
	}
	body, err := canonical(doc)
	if err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	file := filepath.Join(outDir, "netbox-"+version+".json")
	if err := writeAtomic(file, body); err != nil {
		return nil, err
	}
	res := &result{File: file, Version: version}
	res.Paths, res.Operations = countOps(doc, "")
	res.PluginPaths, res.PluginOperations = countOps(doc, "/api/plugins/")
	return res, nil
}

func (d *dumper) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "proxbox-netboxschema/1")
	req.Header.Set("Authorization", authHeader(d.token))
	resp, err := d.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: read body: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		snippet := string(body)
		if len(snippet) > 300 {
			snippet = snippet[:300] + "…"
		}
		return nil, fmt.Errorf("GET %s: HTTP %d: %s", path, resp.StatusCode, strings.TrimSpace(snippet))
	}
	return body, nil
}

// authHeader builds the Authorization header value for a v1 or v2 token.
func authHeader(token string) string {
	if strings.HasPrefix(token, "nbt_") {
		return "Bearer " + token
	}
	return "Token " + token
}

func (d *dumper) statusVersion(ctx context.Context) (string, error) {
	raw, err := d.get(ctx, "/api/status/")
	if err != nil {
		return "", err
	}
	var st struct {
		Version string `json:"netbox-version"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return "", fmt.Errorf("decode /api/status/: %w", err)
	}
	if st.Version == "" {
		return "", errors.New("/api/status/ has no netbox-version")
	}
	return st.Version, nil
}

func decode(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if _, ok := doc["openapi"]; !ok {
		return nil, errors.New("not an OpenAPI document (no \"openapi\" key)")
	}
	if _, ok := doc["paths"].(map[string]any); !ok {
		return nil, errors.New("OpenAPI document has no paths object")
	}
	return doc, nil
}

func infoVersion(doc map[string]any) string {
	info, _ := doc["info"].(map[string]any)
	v, _ := info["version"].(string)
	// drf-spectacular in NetBox reports e.g. "4.7.3 (4.7)".
	if f := strings.Fields(v); len(f) > 0 {
		return f[0]
	}
	return ""
}

var versionRE = regexp.MustCompile(`^[0-9]+(\.[0-9A-Za-z]+)*(-[0-9A-Za-z.]+)*$`)

// cleanVersion accepts "4.7.3", "v4.7.3" or "4.7.3-Docker-3.2.1"-style
// values and rejects anything that is not safe in a file name.
func cleanVersion(v string) (string, error) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if v == "" {
		return "", errors.New("cannot determine the NetBox version")
	}
	if !versionRE.MatchString(v) {
		return "", fmt.Errorf("unexpected NetBox version %q", v)
	}
	return v, nil
}

// canonical encodes doc with sorted keys (encoding/json sorts map keys),
// two-space indentation, no HTML escaping and a trailing newline.
func canonical(doc map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// countOps counts the paths with the given prefix and their operations.
func countOps(doc map[string]any, prefix string) (paths, ops int) {
	ps, _ := doc["paths"].(map[string]any)
	keys := make([]string, 0, len(ps))
	for k := range ps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		paths++
		item, _ := ps[k].(map[string]any)
		for _, m := range httpMethods {
			if _, ok := item[m]; ok {
				ops++
			}
		}
	}
	return paths, ops
}

func writeAtomic(file string, body []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".netbox-schema-*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}
