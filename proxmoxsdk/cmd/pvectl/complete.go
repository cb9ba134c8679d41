package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/proxbox-go/proxbox/proxmoxsdk/pveapi"
)

// completeAPI completes the arguments of get/ls/create/set/delete: the path
// from the schema (and the live API for {name} segments when configured),
// then --parameter names of the verb's operation, enum values, and pvectl's
// own flags. Flag parsing is off for these commands, so cobra hands every
// argument here.
func completeAPI(cmd *cobra.Command, o *options, verb string, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	fs := commandFlags(cmd)
	path, own, prevFlag := "", []string{}, ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			name, _, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
			var isOwn, needsVal bool
			if strings.HasPrefix(a, "--") {
				if f := fs.Lookup(name); f != nil {
					isOwn, needsVal = true, f.NoOptDefVal == ""
				} else {
					needsVal = true // an API parameter takes a value
				}
			} else if f := fs.ShorthandLookup(name[:min(1, len(name))]); f != nil {
				isOwn, needsVal = true, len(name) == 1 && f.NoOptDefVal == ""
			}
			if hasVal {
				needsVal = false
			}
			if isOwn {
				own = append(own, a)
			}
			if needsVal {
				if i+1 < len(args) {
					if isOwn {
						own = append(own, args[i+1])
					}
					i++
				} else {
					prevFlag = a
				}
			}
			continue
		}
		if path == "" {
			path = a
		}
	}
	_ = fs.Parse(own)
	_ = o.resolve(fs)
	method, _ := pveapi.MethodOf(verb)
	if prevFlag != "" {
		name := strings.TrimLeft(prevFlag, "-")
		switch name {
		case "output", "o":
			return []string{"table", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp
		case "transport":
			return []string{"https", "openssh", "ssh", "pvesh"}, cobra.ShellCompDirectiveNoFileComp
		case "mode":
			return []string{"real", "mock"}, cobra.ShellCompDirectiveNoFileComp
		case "pve-version":
			return pveapi.SupportedVersions, cobra.ShellCompDirectiveNoFileComp
		}
		if fs.Lookup(name) != nil {
			return nil, cobra.ShellCompDirectiveDefault
		}
		if op, _, err := pveapi.Lookup(method, path); err == nil {
			if p, ok := op.Param(name); ok {
				if len(p.Enum) > 0 {
					return p.Enum, cobra.ShellCompDirectiveNoFileComp
				}
				if p.Type == "boolean" {
					return []string{"1", "0"}, cobra.ShellCompDirectiveNoFileComp
				}
			}
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if path == "" && !strings.HasPrefix(toComplete, "-") {
		return completePath(cmd.Context(), o, toComplete)
	}
	if !strings.HasPrefix(toComplete, "-") {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	if op, _, err := pveapi.Lookup(method, path); err == nil {
		for _, p := range op.Params {
			if p.In == "path" {
				continue
			}
			name := "--" + p.Name
			if p.Indexed {
				name += "0"
			}
			if strings.HasPrefix(name, toComplete) {
				out = append(out, name+"\t"+p.Description)
			}
		}
	}
	fs.VisitAll(func(f *pflag.Flag) {
		if n := "--" + f.Name; strings.HasPrefix(n, toComplete) && strings.HasPrefix(toComplete, "--") {
			out = append(out, n+"\t"+f.Usage)
		}
	})
	return out, cobra.ShellCompDirectiveNoFileComp
}
