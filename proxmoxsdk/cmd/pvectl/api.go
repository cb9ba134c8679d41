package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
	"github.com/proxbox-go/proxbox/proxmoxsdk/pveapi"
)

func supportedVersions() []string { return pveapi.SupportedVersions }

var verbHelp = map[string]string{
	"get":    "GET an API path and print its data",
	"ls":     "list the children of an API path (GET), with the operations each child has",
	"create": "POST to an API path (create, or start an action)",
	"set":    "PUT to an API path (update)",
	"delete": "DELETE an API path",
}

func newAPICommand(o *options, verb string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   verb + " PATH [--name value | name=value]...",
		Short: verbHelp[verb],
		// API parameters are free --name value pairs; pvectl's own flags
		// are picked out of the arguments by splitArgs.
		DisableFlagParsing: true,
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return completeAPI(cmd, o, verb, args, toComplete)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := commandFlags(cmd)
			path, params, help, err := splitArgs(fs, args)
			if help {
				return cmd.Help()
			}
			if err != nil {
				return err
			}
			if err := o.resolve(fs); err != nil {
				return err
			}
			return o.runAPI(cmd, verb, path, params)
		},
	}
	if verb == "create" || verb == "set" || verb == "delete" {
		cmd.Flags().BoolVar(&o.wait, "wait", false, "when the answer is a task id (UPID), follow the task to its end, printing its log")
	}
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on success")
	cmd.Flags().StringArrayVarP(&o.params, "param", "P", nil, "API parameter name=value (for names that are also pvectl flags; repeatable)")
	return cmd
}

// commandFlags returns the command's flags together with the inherited
// persistent ones (cobra merges them only when it parses flags itself).
func commandFlags(cmd *cobra.Command) *pflag.FlagSet {
	fs := cmd.Flags()
	fs.AddFlagSet(cmd.InheritedFlags())
	return fs
}

// splitArgs separates pvectl's flags (parsed into fs) from the API path and
// parameters: --name value, --name=value and name=value are parameters
// unless name is a pvectl flag.
func splitArgs(fs *pflag.FlagSet, args []string) (path string, params url.Values, help bool, err error) {
	params = url.Values{}
	var own []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h" || a == "--help":
			return "", nil, true, nil
		case a == "--":
			return "", nil, false, usageErr("unexpected \"--\"")
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			if f := fs.Lookup(name); f != nil {
				own = append(own, a)
				if !hasVal && f.NoOptDefVal == "" {
					if i+1 >= len(args) {
						return "", nil, false, usageErr("flag --%s needs a value", name)
					}
					i++
					own = append(own, args[i])
				}
				continue
			}
			if name == "" {
				return "", nil, false, usageErr("empty parameter name in %q", a)
			}
			if !hasVal {
				if i+1 >= len(args) {
					return "", nil, false, usageErr("parameter --%s needs a value", name)
				}
				i++
				val = args[i]
			}
			params.Add(name, val)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			short := a[1:2]
			f := fs.ShorthandLookup(short)
			if f == nil {
				return "", nil, false, usageErr("unknown flag %s (API parameters are --name value)", a)
			}
			own = append(own, a)
			if len(a) == 2 && f.NoOptDefVal == "" {
				if i+1 >= len(args) {
					return "", nil, false, usageErr("flag %s needs a value", a)
				}
				i++
				own = append(own, args[i])
			}
		case path == "":
			path = a
		default:
			name, val, ok := strings.Cut(a, "=")
			if !ok || name == "" {
				return "", nil, false, usageErr("unexpected argument %q (parameters are --name value or name=value)", a)
			}
			params.Add(name, val)
		}
	}
	if err := fs.Parse(own); err != nil {
		return "", nil, false, usageErr("%v", err)
	}
	if p, err := fs.GetStringArray("param"); err == nil {
		for _, kv := range p {
			name, val, ok := strings.Cut(kv, "=")
			if !ok || name == "" {
				return "", nil, false, usageErr("-P %q: want name=value", kv)
			}
			params.Add(name, val)
		}
	}
	if path == "" {
		return "", nil, false, usageErr("missing API path, e.g. /nodes")
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return path, params, false, nil
}

// runAPI validates, sends and prints one API call.
func (o *options) runAPI(cmd *cobra.Command, verb, path string, params url.Values) error {
	method, _ := pveapi.MethodOf(verb)
	op, m, err := pveapi.Lookup(method, path)
	if err != nil {
		return err
	}
	if !o.noValidate {
		if err := pveapi.Validate(op, m, params, o.version); err != nil {
			return err
		}
	}
	px, err := o.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), o.timeout)
	defer cancel()
	raw, err := px.CallRaw(ctx, method, path, params)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if verb == "ls" {
		return printList(out, o.output, path, m, raw)
	}
	var upid string
	if o.wait && json.Unmarshal(raw, &upid) == nil && strings.HasPrefix(upid, "UPID:") {
		return o.waitTask(ctx, cmd, px, upid)
	}
	if o.quiet {
		return nil
	}
	return printData(out, o.output, raw)
}

// waitTask follows a task to its end, printing its log lines to stderr as
// they appear and the final status to stdout.
func (o *options) waitTask(ctx context.Context, cmd *cobra.Command, px *proxmoxsdk.Client, upid string) error {
	errw := cmd.ErrOrStderr()
	fmt.Fprintf(errw, "task %s\n", upid)
	st, err := px.WaitTask(ctx, upid,
		proxmoxsdk.WithPollInterval(200*time.Millisecond, 2*time.Second),
		proxmoxsdk.WithProgress(func(p proxmoxsdk.TaskProgress) {
			for _, l := range p.NewLines {
				fmt.Fprintf(errw, "[%6.1fs] %s\n", p.Elapsed.Seconds(), l)
			}
			if len(p.NewLines) == 0 && p.Status.Status == "running" {
				fmt.Fprintf(errw, "[%6.1fs] running\n", p.Elapsed.Seconds())
			}
		}))
	var te *proxmoxsdk.TaskError
	if errors.As(err, &te) {
		return fmt.Errorf("task failed: %s (%s)", te.ExitStatus, upid)
	}
	if err != nil {
		return err
	}
	if o.quiet {
		return nil
	}
	b, _ := json.Marshal(st)
	return printData(cmd.OutOrStdout(), o.output, b)
}

// childName picks the key of a list item that names its child path: the
// {var} of the next template segment, else subdir, name or id.
func childName(item map[string]any, varName string) (string, bool) {
	for _, k := range []string{varName, "subdir", "name", "id"} {
		if k == "" {
			continue
		}
		if v, ok := item[k]; ok && v != nil {
			return scalarText(v), true
		}
	}
	return "", false
}

// printList prints the children of path: one row per item, its child path's
// operations from the schema, then the item's fields.
func printList(w interface{ Write([]byte) (int, error) }, format, path string, m *pveapi.Match, raw json.RawMessage) error {
	var items []map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&items); err != nil {
		return printData(w, format, raw)
	}
	varName := pveapi.VarAt(strings.TrimSuffix(path, "/") + "/")
	sort.SliceStable(items, func(i, j int) bool {
		a, _ := childName(items[i], varName)
		b, _ := childName(items[j], varName)
		return naturalLess(a, b)
	})
	if format != "table" {
		return printData(w, format, raw)
	}
	rows := make([]map[string]any, 0, len(items))
	for _, it := range items {
		name, ok := childName(it, varName)
		row := map[string]any{}
		for k, v := range it {
			row[k] = v
		}
		if ok {
			child := strings.TrimSuffix(path, "/") + "/" + name
			row["CHILD"] = name
			if cm, err := pveapi.Resolve(child); err == nil {
				var verbs []string
				for _, meth := range []string{"GET", "POST", "PUT", "DELETE"} {
					if _, ok := cm.Ops[meth]; ok {
						verbs = append(verbs, pveapi.VerbOf(meth))
					}
				}
				row["OPERATIONS"] = strings.Join(verbs, ",")
			}
		}
		rows = append(rows, row)
	}
	_ = m
	return printTable(w, rows, []string{"CHILD", "OPERATIONS"})
}
