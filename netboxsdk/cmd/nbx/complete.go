package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// completeCollection completes the first argument with collection names.
func completeCollection(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	list, _ := catalog()
	var out []string
	for _, c := range list {
		if strings.HasPrefix(c.Name, toComplete) {
			out = append(out, c.Name)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeFilter completes --filter values with the collection's filter
// names followed by "=".
func completeFilter(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := lookupCollection(args[0])
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, n := range filterNames(c) {
		if strings.HasPrefix(n, toComplete) {
			out = append(out, n+"=")
		}
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// completeColumns completes --columns with the response model's fields.
func completeColumns(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := lookupCollection(args[0])
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	done, partial := "", toComplete
	if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
		done, partial = toComplete[:i+1], toComplete[i+1:]
	}
	var out []string
	for _, f := range fields(c.Resp) {
		if strings.HasPrefix(f.Name, partial) {
			out = append(out, done+f.Name)
		}
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// completeFields completes create/update arguments: the collection, then
// field= names of its write model.
func completeFields(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return completeCollection(cmd, args, toComplete)
	}
	if cmd.Name() == "update" && len(args) == 1 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := lookupCollection(args[0])
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, f := range fields(c.Write) {
		if strings.HasPrefix(f.Name, toComplete) {
			out = append(out, f.Name+"=")
		}
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}
