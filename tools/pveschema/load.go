package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// apiNode is one node of the PVE API tree in apidata.js: one path, its
// operations by HTTP method and its children.
type apiNode struct {
	Path     string                    `json:"path"`
	Text     string                    `json:"text"`
	Info     map[string]map[string]any `json:"info"`
	Children []*apiNode                `json:"children"`
}

// readSource reads apidata.js from a file path or an http(s) URL (for
// example https://pve:8006/pve-docs/api-viewer/apidata.js).
func readSource(ctx context.Context, src string) ([]byte, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, fmt.Errorf("build request: %w", err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", src, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("fetch %s: HTTP %s", src, resp.Status)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", src, err)
		}
		return b, nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("read apidata: %w", err)
	}
	return b, nil
}

// parseAPIData extracts the JSON array between the first '[' and the last
// ']' of apidata.js ("const apiSchema = [ ... ];") and decodes it. Numbers
// are kept as json.Number so that no precision is lost.
func parseAPIData(b []byte) ([]*apiNode, error) {
	start := bytes.IndexByte(b, '[')
	end := bytes.LastIndexByte(b, ']')
	if start < 0 || end <= start {
		return nil, errors.New("apidata: no JSON array found")
	}
	dec := json.NewDecoder(bytes.NewReader(b[start : end+1]))
	dec.UseNumber()
	var nodes []*apiNode
	if err := dec.Decode(&nodes); err != nil {
		return nil, fmt.Errorf("apidata: decode: %w", err)
	}
	if len(nodes) == 0 {
		return nil, errors.New("apidata: empty API tree")
	}
	return nodes, nil
}

// countInput counts the (path, method) pairs of the input tree and reports
// paths that occur more than once.
func countInput(nodes []*apiNode) (pairs int, dups []string) {
	seen := map[string]bool{}
	var walk func(n *apiNode)
	walk = func(n *apiNode) {
		for m := range n.Info {
			k := strings.ToUpper(m) + " " + n.Path
			if seen[k] {
				dups = append(dups, k)
			}
			seen[k] = true
			pairs++
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return pairs, dups
}
