package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/proxbox-go/proxbox/netboxsdk"
	_ "github.com/proxbox-go/proxbox/netboxsdk/netboxtest" // mock mode (NETBOX_API_MODE=mock)
)

type options struct {
	url, token, caFile, configFile, profile string
	insecure                                bool
	mode, mockData                          string
	output                                  string
	timeout                                 time.Duration
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	o := &options{}
	root := &cobra.Command{
		Use:   "nbx",
		Short: "NetBox from the command line: any collection of the schema, checked before sending",
		Long: `nbx lists, reads, creates, updates and deletes objects of any NetBox collection
(dcim.devices, ipam.ip-addresses, plugins.proxbox.storage, …; ` + "`nbx collections`" + ` lists them).
Collections and filter names are checked against the committed NetBox schema before any request.

Configuration, first found wins: flags (--url, --token), the environment (NETBOX_URL,
NETBOX_TOKEN), a profile of ~/.config/nbx/config.yaml (--profile or NBX_PROFILE, else its
"default:"). Tokens: v1 (40 hex characters) or v2 (nbt_KEY.SECRET).
NETBOX_API_MODE=mock (or --mode mock) answers from an in-process netboxtest, seeded from
NETBOX_MOCK_DATA (or --mock-data FILE).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&o.url, "url", "", "NetBox URL (NETBOX_URL)")
	pf.StringVar(&o.token, "token", "", "API token, v1 or v2 nbt_KEY.SECRET (NETBOX_TOKEN; prefer the environment: flags show in ps)")
	pf.StringVar(&o.configFile, "config", defaultConfigPath(), "profile file (NBX_CONFIG)")
	pf.StringVarP(&o.profile, "profile", "p", "", "profile of the config file (NBX_PROFILE)")
	pf.StringVar(&o.caFile, "ca-file", "", "CA bundle (PEM) for NetBox's certificate (NETBOX_CA_FILE)")
	pf.BoolVar(&o.insecure, "insecure", false, "do not verify NetBox's certificate")
	pf.StringVar(&o.mode, "mode", "", "real or mock (NETBOX_API_MODE)")
	pf.StringVar(&o.mockData, "mock-data", "", "JSON file seeding the mock (NETBOX_MOCK_DATA)")
	pf.StringVarP(&o.output, "output", "o", "table", "output: table, json, yaml or csv")
	pf.DurationVar(&o.timeout, "timeout", 5*time.Minute, "timeout of the whole command")
	_ = root.RegisterFlagCompletionFunc("output", fixedCompletion("table", "json", "yaml", "csv"))
	_ = root.RegisterFlagCompletionFunc("mode", fixedCompletion("real", "mock"))
	_ = root.RegisterFlagCompletionFunc("profile", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		pf, err := loadProfiles(o.configFile, false)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for k := range pf.Profiles {
			out = append(out, k)
		}
		sort.Strings(out)
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	root.AddCommand(lsCmd(o), getCmd(o), createCmd(o), updateCmd(o), deleteCmd(o), countCmd(o), choicesCmd(o), statusCmd(o), collectionsCmd(o))
	return root
}

func fixedCompletion(vals ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return vals, cobra.ShellCompDirectiveNoFileComp
	}
}

// setup checks the output format and builds the client.
func (o *options) setup(cmd *cobra.Command, formats ...string) (*netboxsdk.Client, context.Context, context.CancelFunc, error) {
	if len(formats) == 0 {
		formats = []string{"table", "json", "yaml", "csv"}
	}
	ok := false
	for _, f := range formats {
		ok = ok || f == o.output
	}
	if !ok {
		return nil, nil, nil, usageErr("--output %q: want %s", o.output, strings.Join(formats, ", "))
	}
	conn, err := o.resolveConnection(cmd.Flags())
	if err != nil {
		return nil, nil, nil, err
	}
	nb, err := conn.client()
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), o.timeout)
	return nb, ctx, cancel, nil
}

// parseFilters turns --filter name=value flags into a Filter, checking every
// name against the collection's filters.
func parseFilters(c *collection, specs []string) (*netboxsdk.Filter, error) {
	f := netboxsdk.NewFilter()
	for _, s := range specs {
		name, val, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return nil, usageErr("--filter %q: want name=value", s)
		}
		if err := checkFilter(c, name); err != nil {
			return nil, err
		}
		f.Eq(name, val)
	}
	return f, nil
}

func parseID(s string) (int, error) {
	id, err := strconv.Atoi(s)
	if err != nil || id <= 0 {
		return 0, usageErr("object id %q: want a positive integer", s)
	}
	return id, nil
}

func splitColumns(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// checkColumns validates --columns against the response model's fields.
func checkColumns(c *collection, cols []string) error {
	fs := fields(c.Resp)
	if len(fs) == 0 {
		return nil
	}
	names := make([]string, len(fs))
	have := map[string]bool{}
	for i, f := range fs {
		names[i], have[f.Name] = f.Name, true
	}
	for _, col := range cols {
		if !have[col] {
			msg := fmt.Sprintf("unknown column %q for %s", col, c.Name)
			if s := closest(col, names, 4); len(s) > 0 {
				msg += " (did you mean " + strings.Join(s, ", ") + "?)"
			}
			return usageErr("%s", msg)
		}
	}
	return nil
}

func lsCmd(o *options) *cobra.Command {
	var filters []string
	var columns string
	var limit int
	var wide, noHeader bool
	cmd := &cobra.Command{
		Use:               "ls COLLECTION [--filter name=value]...",
		Aliases:           []string{"list"},
		Short:             "list objects; pages are streamed as they arrive",
		Args:              collectionArgs(1),
		ValidArgsFunction: completeCollection,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := lookupCollection(args[0])
			if err != nil {
				return err
			}
			f, err := parseFilters(c, filters)
			if err != nil {
				return err
			}
			cols := splitColumns(columns)
			if err := checkColumns(c, cols); err != nil {
				return err
			}
			if limit < 0 {
				return usageErr("--limit %d: want 0 (all) or more", limit)
			}
			if limit > 0 {
				f.Take(limit)
			}
			nb, ctx, cancel, err := o.setup(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			w := newRowWriter(cmd.OutOrStdout(), o.output, c, cols, wide, noHeader)
			for obj, err := range nb.Objects(c.Path).List(ctx, f) {
				if err != nil {
					_ = w.Close()
					return err
				}
				if err := w.Write(obj); err != nil {
					return err
				}
			}
			return w.Close()
		},
	}
	cmd.Flags().StringArrayVarP(&filters, "filter", "f", nil, "filter name=value (repeatable; repeated names are ORed by NetBox)")
	cmd.Flags().StringVarP(&columns, "columns", "c", "", "comma-separated columns (table and csv)")
	cmd.Flags().IntVarP(&limit, "limit", "n", 0, "stop after this many objects (0: all)")
	cmd.Flags().BoolVarP(&wide, "wide", "w", false, "all fields as columns (table and csv)")
	cmd.Flags().BoolVar(&noHeader, "no-header", false, "no header line (table and csv)")
	_ = cmd.RegisterFlagCompletionFunc("filter", completeFilter)
	_ = cmd.RegisterFlagCompletionFunc("columns", completeColumns)
	return cmd
}

func getCmd(o *options) *cobra.Command {
	var filters []string
	var columns string
	cmd := &cobra.Command{
		Use:               "get COLLECTION ID | get COLLECTION --filter name=value...",
		Short:             "show one object, by id or by filters that match exactly one",
		Args:              collectionArgs(1, 2),
		ValidArgsFunction: completeCollection,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := lookupCollection(args[0])
			if err != nil {
				return err
			}
			cols := splitColumns(columns)
			if err := checkColumns(c, cols); err != nil {
				return err
			}
			var id int
			var f *netboxsdk.Filter
			switch {
			case len(args) == 2 && len(filters) == 0:
				if id, err = parseID(args[1]); err != nil {
					return err
				}
			case len(args) == 1 && len(filters) > 0:
				if f, err = parseFilters(c, filters); err != nil {
					return err
				}
			default:
				return usageErr("get needs an id or --filter, not both")
			}
			nb, ctx, cancel, err := o.setup(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			var obj netboxsdk.Object
			if f != nil {
				obj, err = nb.Objects(c.Path).GetBy(ctx, f)
			} else {
				obj, err = nb.Objects(c.Path).Get(ctx, id)
			}
			if err != nil {
				return err
			}
			return printObject(cmd.OutOrStdout(), o.output, c, obj, cols, true)
		},
	}
	cmd.Flags().StringArrayVarP(&filters, "filter", "f", nil, "filter name=value; exactly one object must match")
	cmd.Flags().StringVarP(&columns, "columns", "c", "", "comma-separated fields to show")
	_ = cmd.RegisterFlagCompletionFunc("filter", completeFilter)
	_ = cmd.RegisterFlagCompletionFunc("columns", completeColumns)
	return cmd
}

// body builds a request body from --data/--file and field=value arguments,
// checking every field against the collection's write model.
func body(c *collection, data, file string, assigns []string, stdin io.Reader) (map[string]any, error) {
	out := map[string]any{}
	var src []byte
	switch {
	case data != "" && file != "":
		return nil, usageErr("--data and --file are exclusive")
	case data != "":
		src = []byte(data)
	case file == "-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("stdin: %w", err)
		}
		src = b
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--file: %w", err)
		}
		src = b
	}
	if len(bytes.TrimSpace(src)) > 0 {
		if err := yaml.Unmarshal(src, &out); err != nil { // YAML is a superset of JSON
			return nil, usageErr("malformed body: %v", err)
		}
		if out == nil {
			return nil, usageErr("malformed body: want an object")
		}
	}
	fs := fields(c.Write)
	byName := map[string]field{}
	names := make([]string, len(fs))
	for i, f := range fs {
		byName[f.Name], names[i] = f, f.Name
	}
	for k := range out {
		if _, ok := byName[k]; !ok && len(fs) > 0 {
			return nil, unknownField(c, k, names)
		}
	}
	for _, a := range assigns {
		name, val, ok := strings.Cut(a, "=")
		raw := false
		if ok && strings.HasSuffix(name, ":") {
			name, raw = strings.TrimSuffix(name, ":"), true
		}
		if !ok || name == "" {
			return nil, usageErr("%q: want field=value or field:=<json>", a)
		}
		if cf, isCF := strings.CutPrefix(name, "cf_"); isCF && cf != "" {
			cfs, _ := out["custom_fields"].(map[string]any)
			if cfs == nil {
				cfs = map[string]any{}
				out["custom_fields"] = cfs
			}
			v, err := convert(name, val, raw, nil)
			if err != nil {
				return nil, err
			}
			cfs[cf] = v
			continue
		}
		f, known := byName[name]
		if !known && len(fs) > 0 {
			return nil, unknownField(c, name, names)
		}
		var ft *field
		if known {
			ft = &f
		}
		v, err := convert(name, val, raw, ft)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

func unknownField(c *collection, name string, names []string) error {
	msg := fmt.Sprintf("unknown field %q for %s", name, c.Name)
	if s := closest(name, names, 4); len(s) > 0 {
		msg += " (did you mean " + strings.Join(s, ", ") + "?)"
	}
	return usageErr("%s", msg)
}

// convert turns the text of field=value into the JSON value the field's
// type wants; field:=<json> takes JSON as is.
func convert(name, val string, raw bool, f *field) (any, error) {
	if raw {
		var v any
		if err := json.Unmarshal([]byte(val), &v); err != nil {
			return nil, usageErr("%s:=%s: malformed JSON: %v", name, val, err)
		}
		return v, nil
	}
	if f == nil {
		return val, nil
	}
	if val == "null" && f.Nullable {
		return nil, nil
	}
	v, err := convertKind(val, f.Type)
	if err != nil {
		return nil, usageErr("field %s=%q: %v", name, val, err)
	}
	return v, nil
}

func convertKind(val string, t reflect.Type) (any, error) {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("not an integer")
		}
		return n, nil
	case reflect.Float32, reflect.Float64:
		x, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return nil, fmt.Errorf("not a number")
		}
		return x, nil
	case reflect.Bool:
		b, err := strconv.ParseBool(val)
		if err != nil {
			return nil, fmt.Errorf("not a boolean (true/false)")
		}
		return b, nil
	case reflect.String:
		return val, nil
	case reflect.Slice:
		et, _ := unwrap(t.Elem())
		if val == "" {
			return []any{}, nil
		}
		var out []any
		for _, part := range strings.Split(val, ",") {
			part = strings.TrimSpace(part)
			if et.Kind() == reflect.Struct {
				// tags and the like: {"slug": x} (nested objects by slug)
				if _, ok := et.FieldByName("Slug"); ok {
					out = append(out, map[string]any{"slug": part})
					continue
				}
				return nil, fmt.Errorf("a list of objects: use name:=<json>")
			}
			v, err := convertKind(part, et)
			if err != nil {
				return nil, fmt.Errorf("element %q: %w", part, err)
			}
			out = append(out, v)
		}
		return out, nil
	}
	var v any
	if err := json.Unmarshal([]byte(val), &v); err != nil {
		return nil, fmt.Errorf("needs JSON (use name:=<json>)")
	}
	return v, nil
}

func createCmd(o *options) *cobra.Command {
	var data, file string
	cmd := &cobra.Command{
		Use:               "create COLLECTION [field=value | field:=<json> | cf_name=value]...",
		Short:             "create an object from field=value pairs, --data JSON or --file (JSON or YAML; - for stdin)",
		Args:              collectionArgs(1, -1),
		ValidArgsFunction: completeFields,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := lookupCollection(args[0])
			if err != nil {
				return err
			}
			b, err := body(c, data, file, args[1:], cmd.InOrStdin())
			if err != nil {
				return err
			}
			if len(b) == 0 {
				return usageErr("nothing to create: give field=value pairs, --data or --file")
			}
			nb, ctx, cancel, err := o.setup(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			obj, err := nb.Objects(c.Path).Create(ctx, b)
			if err != nil {
				return err
			}
			return printObject(cmd.OutOrStdout(), o.output, c, obj, nil, true)
		},
	}
	cmd.Flags().StringVarP(&data, "data", "d", "", "request body (JSON or YAML object)")
	cmd.Flags().StringVarP(&file, "file", "F", "", "file holding the body (JSON or YAML; - for stdin)")
	return cmd
}

func updateCmd(o *options) *cobra.Command {
	var data, file string
	var replace bool
	cmd := &cobra.Command{
		Use:               "update COLLECTION ID [field=value | field:=<json> | field=null]...",
		Short:             "change an object: PATCH the given fields (--replace: PUT the whole object)",
		Args:              collectionArgs(2, -1),
		ValidArgsFunction: completeFields,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := lookupCollection(args[0])
			if err != nil {
				return err
			}
			id, err := parseID(args[1])
			if err != nil {
				return err
			}
			b, err := body(c, data, file, args[2:], cmd.InOrStdin())
			if err != nil {
				return err
			}
			if len(b) == 0 {
				return usageErr("nothing to change: give field=value pairs, --data or --file")
			}
			nb, ctx, cancel, err := o.setup(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			var obj netboxsdk.Object
			if replace {
				obj, err = nb.Objects(c.Path).Update(ctx, id, b)
			} else {
				obj, err = nb.Objects(c.Path).Patch(ctx, id, b)
			}
			if err != nil {
				return err
			}
			return printObject(cmd.OutOrStdout(), o.output, c, obj, nil, true)
		},
	}
	cmd.Flags().StringVarP(&data, "data", "d", "", "request body (JSON or YAML object)")
	cmd.Flags().StringVarP(&file, "file", "F", "", "file holding the body (JSON or YAML; - for stdin)")
	cmd.Flags().BoolVar(&replace, "replace", false, "PUT: replace the object (required fields must be given)")
	return cmd
}

func deleteCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:               "delete COLLECTION ID...",
		Short:             "delete objects by id (several: one bulk request, all or nothing)",
		Args:              collectionArgs(2, -1),
		ValidArgsFunction: completeCollection,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := lookupCollection(args[0])
			if err != nil {
				return err
			}
			var ids []int
			for _, a := range args[1:] {
				id, err := parseID(a)
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			nb, ctx, cancel, err := o.setup(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			if len(ids) == 1 {
				err = nb.Objects(c.Path).Delete(ctx, ids[0])
			} else {
				err = nb.Objects(c.Path).BulkDelete(ctx, ids)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %d %s\n", len(ids), c.Name)
			return nil
		},
	}
	return cmd
}

func countCmd(o *options) *cobra.Command {
	var filters []string
	cmd := &cobra.Command{
		Use:               "count COLLECTION [--filter name=value]...",
		Short:             "count objects (one request)",
		Args:              collectionArgs(1),
		ValidArgsFunction: completeCollection,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := lookupCollection(args[0])
			if err != nil {
				return err
			}
			f, err := parseFilters(c, filters)
			if err != nil {
				return err
			}
			nb, ctx, cancel, err := o.setup(cmd, "table", "json", "yaml")
			if err != nil {
				return err
			}
			defer cancel()
			n, err := nb.Objects(c.Path).Count(ctx, f)
			if err != nil {
				return err
			}
			if o.output == "table" {
				fmt.Fprintln(cmd.OutOrStdout(), n)
				return nil
			}
			return printObject(cmd.OutOrStdout(), o.output, c, map[string]any{"count": n}, nil, false)
		},
	}
	cmd.Flags().StringArrayVarP(&filters, "filter", "f", nil, "filter name=value (repeatable)")
	_ = cmd.RegisterFlagCompletionFunc("filter", completeFilter)
	return cmd
}

func choicesCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:               "choices COLLECTION [FIELD]",
		Short:             "the allowed values of the collection's choice fields (OPTIONS)",
		Args:              collectionArgs(1, 2),
		ValidArgsFunction: completeCollection,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := lookupCollection(args[0])
			if err != nil {
				return err
			}
			nb, ctx, cancel, err := o.setup(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			ch, err := nb.Objects(c.Path).Choices(ctx)
			if err != nil {
				return err
			}
			var keys []string
			for k := range ch {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if len(args) == 2 {
				if _, ok := ch[args[1]]; !ok {
					msg := fmt.Sprintf("%s has no choice field %q", c.Name, args[1])
					if len(keys) > 0 {
						msg += " (choice fields: " + strings.Join(keys, ", ") + ")"
					}
					return fmt.Errorf("%s", msg)
				}
				keys = []string{args[1]}
			}
			w := newRowWriter(cmd.OutOrStdout(), o.output, nil, []string{"field", "value", "label"}, false, false)
			for _, k := range keys {
				for _, cv := range ch[k] {
					if err := w.Write(map[string]any{"field": k, "value": cv.String(), "label": cv.Label}); err != nil {
						return err
					}
				}
			}
			return w.Close()
		},
	}
	return cmd
}

func statusCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "NetBox's /api/status/: versions, plugins, workers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			nb, ctx, cancel, err := o.setup(cmd, "table", "json", "yaml")
			if err != nil {
				return err
			}
			defer cancel()
			var st map[string]any
			if _, err := nb.Do(ctx, "GET", "/api/status/", nil, nil, &st); err != nil {
				return err
			}
			st["url"] = nb.BaseURL()
			return printObject(cmd.OutOrStdout(), o.output, nil, st, nil, false)
		},
	}
}

func collectionsCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "collections [PREFIX]",
		Short: "list the collections of the schema (no request)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, _ := catalog()
			w := newRowWriter(cmd.OutOrStdout(), o.output, nil, []string{"name", "path"}, false, false)
			for _, c := range list {
				if len(args) == 1 && !strings.HasPrefix(c.Name, args[0]) {
					continue
				}
				if err := w.Write(map[string]any{"name": c.Name, "path": c.Path}); err != nil {
					return err
				}
			}
			return w.Close()
		},
	}
}

// collectionArgs checks the argument count (maxN -1: unbounded) as a usage
// error.
func collectionArgs(minN int, maxN ...int) cobra.PositionalArgs {
	hi := minN
	if len(maxN) > 0 {
		hi = maxN[0]
	}
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < minN || (hi >= 0 && len(args) > hi) {
			return usageErr("usage: nbx %s", cmd.Use)
		}
		return nil
	}
}
