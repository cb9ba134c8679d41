package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/proxbox-go/proxbox/proxmoxsdk/pveapi"
)

func newUsageCommand(o *options) *cobra.Command {
	var method string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "usage PATH",
		Short: "show the operations of an API path: parameters, types, limits and the PVE versions that have them (from the schema)",
		Args:  cobra.ExactArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			_ = o.resolve(cmd.Flags())
			return completePath(cmd.Context(), o, toComplete)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.resolve(cmd.Flags()); err != nil {
				return err
			}
			m, err := pveapi.Resolve(args[0])
			if err != nil {
				return err
			}
			var ops []*pveapi.Operation
			for _, meth := range []string{"GET", "POST", "PUT", "DELETE"} {
				if op, ok := m.Ops[meth]; ok && (method == "" || strings.EqualFold(method, meth) || method == op.Verb()) {
					ops = append(ops, op)
				}
			}
			if len(ops) == 0 {
				return fmt.Errorf("%s has no %s operation", m.Template, method)
			}
			if o.output != "table" {
				b, err := json.Marshal(ops)
				if err != nil {
					return err
				}
				return printData(cmd.OutOrStdout(), o.output, b)
			}
			for i, op := range ops {
				if i > 0 {
					fmt.Fprintln(cmd.OutOrStdout())
				}
				writeUsage(cmd.OutOrStdout(), op, verbose)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&method, "method", "X", "", "only this operation: get, create, set, delete (or GET, POST, PUT, DELETE)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also print each parameter's PVE type text and format")
	return cmd
}

func writeUsage(w io.Writer, op *pveapi.Operation, verbose bool) {
	fmt.Fprintf(w, "pvectl %s %s", op.Verb(), op.Path)
	for _, p := range op.Params {
		if p.Required && p.In != "path" {
			fmt.Fprintf(w, " --%s <%s>", p.Name, p.Type)
		}
	}
	fmt.Fprintf(w, "\n  %s %s (%s), PVE %s\n", op.Method, op.Path, op.PVEName, strings.Join(op.Versions, ", "))
	if op.Summary != "" {
		fmt.Fprintf(w, "  %s\n", op.Summary)
	}
	fmt.Fprintf(w, "  returns: %s\n", op.Returns)
	if len(op.Params) == 0 {
		return
	}
	nw := 0
	for _, p := range op.Params {
		nw = max(nw, len(p.DisplayName())+2)
	}
	fmt.Fprintln(w, "  parameters:")
	for _, p := range op.Params {
		name := "--" + p.DisplayName()
		if p.In == "path" {
			name = "{" + p.Name + "}"
		}
		var attrs []string
		attrs = append(attrs, p.Type)
		if p.Required {
			attrs = append(attrs, "required")
		}
		if len(p.Enum) > 0 {
			attrs = append(attrs, "one of "+strings.Join(p.Enum, "|"))
		}
		if p.HasMin || p.HasMax {
			lo, hi := "", ""
			if p.HasMin {
				lo = strconv.FormatFloat(p.Min, 'f', -1, 64)
			}
			if p.HasMax {
				hi = strconv.FormatFloat(p.Max, 'f', -1, 64)
			}
			attrs = append(attrs, "range "+lo+".."+hi)
		}
		if p.MaxLength > 0 {
			attrs = append(attrs, "max length "+strconv.Itoa(p.MaxLength))
		}
		if p.Default != "" {
			attrs = append(attrs, "default "+p.Default)
		}
		if p.Versions != nil {
			attrs = append(attrs, "PVE "+strings.Join(p.Versions, ", ")+" only")
		}
		fmt.Fprintf(w, "    %-*s %s", nw, name, strings.Join(attrs, ", "))
		if p.Description != "" {
			fmt.Fprintf(w, " - %s", p.Description)
		}
		fmt.Fprintln(w)
		if verbose {
			if p.TypeText != "" {
				fmt.Fprintf(w, "    %-*s   type: %s\n", nw, "", p.TypeText)
			}
			if p.Format != "" {
				fmt.Fprintf(w, "    %-*s   format: %s\n", nw, "", p.Format)
			}
		}
	}
}

// completePath completes an API path from the schema; a {name} segment is
// completed from the live API when a PVE (or the mock) is configured.
func completePath(ctx context.Context, o *options, toComplete string) ([]string, cobra.ShellCompDirective) {
	if toComplete == "" {
		toComplete = "/"
	}
	if !strings.HasPrefix(toComplete, "/") {
		toComplete = "/" + toComplete
	}
	dir := toComplete[:strings.LastIndexByte(toComplete, '/')+1]
	partial := toComplete[len(dir):]
	var out []string
	for _, c := range pveapi.Children(toComplete) {
		if strings.HasPrefix(c, "{") {
			if vals := liveChildren(ctx, o, dir); len(vals) > 0 {
				for _, v := range vals {
					if strings.HasPrefix(v, partial) {
						out = append(out, dir+v)
					}
				}
				continue
			}
		}
		out = append(out, dir+c)
	}
	// Offer "path/" for descent as well as the path itself.
	var res []string
	for _, p := range out {
		res = append(res, p)
		if len(pveapi.Children(p+"/")) > 0 {
			res = append(res, p+"/")
		}
	}
	return res, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// liveChildren lists the names under dir from the API (best effort, 3 s);
// nothing when no PVE (or mock) is configured.
func liveChildren(ctx context.Context, o *options, dir string) []string {
	px, err := o.client()
	if err != nil {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	raw, err := px.CallRaw(ctx, "GET", strings.TrimSuffix(dir, "/"), nil)
	if err != nil {
		return nil
	}
	var items []map[string]any
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	varName := pveapi.VarAt(dir)
	var out []string
	for _, it := range items {
		if n, ok := childName(it, varName); ok {
			out = append(out, n)
		}
	}
	return out
}
