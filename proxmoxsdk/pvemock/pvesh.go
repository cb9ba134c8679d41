package pvemock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

var pveshMethods = map[string]string{"get": "GET", "ls": "GET", "create": "POST", "set": "PUT", "delete": "DELETE"}

// Pvesh behaves like `pvesh <verb> <path> [--output-format json] [--k v…]`
// on a node of this cluster: data JSON on stdout, errors on stderr as
// "NNN message" plus "param: message" lines, exit status 0 or 255. It backs
// the fake pvesh of SSH and command-transport tests.
func (m *Mock) Pvesh(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprintln(stderr, "400 wrong number of arguments")
		return 255
	}
	method, ok := pveshMethods[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "400 unknown command '%s'\n", args[0])
		return 255
	}
	params := url.Values{}
	rest := args[2:]
	for i := 0; i < len(rest); i++ {
		k := strings.TrimLeft(rest[i], "-")
		if !strings.HasPrefix(rest[i], "-") || i+1 >= len(rest) {
			fmt.Fprintf(stderr, "400 unable to parse option '%s'\n", rest[i])
			return 255
		}
		i++
		if k == "output-format" {
			continue
		}
		params.Add(k, rest[i])
	}
	segs := strings.Split(strings.Trim(args[1], "/"), "/")
	resp := m.serve(&proxmoxsdk.Request{Method: method, Path: proxmoxsdk.JoinPath(segs...), Params: params}, false)
	if resp.StatusCode/100 == 2 {
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(resp.Body, &env)
		if len(env.Data) > 0 && !bytes.Equal(env.Data, []byte("null")) {
			_, _ = stdout.Write(env.Data)
			_, _ = stdout.Write([]byte("\n"))
		}
		return 0
	}
	var env struct {
		Message string            `json:"message"`
		Errors  map[string]string `json:"errors"`
	}
	_ = json.Unmarshal(resp.Body, &env)
	fmt.Fprintf(stderr, "%d %s\n", resp.StatusCode, strings.TrimSpace(env.Message))
	keys := make([]string, 0, len(env.Errors))
	for k := range env.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(stderr, "%s: %s\n", k, env.Errors[k])
	}
	return 255
}
