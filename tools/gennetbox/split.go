package main

import (
	"fmt"
	"sort"
	"strings"
)

const commonApp = "common"

// appSpec is the OpenAPI document of one generated package.
type appSpec struct {
	app  string // app key: "dcim", "plugins/proxbox", or "common"
	spec obj
}

// split divides the document by /api/<app>/ into one spec per app. Components
// reached from two or more apps, closed under their references, go into the
// common spec; app specs refer to them as common.json#/components/schemas/X.
func (g *generator) split() ([]appSpec, error) {
	appPaths := map[string]obj{}
	for _, p := range sortedKeys(g.paths) {
		app, _ := splitAppPath(p)
		if app == "" {
			return nil, fmt.Errorf("path %s is not under /api/<app>/", p)
		}
		if app == commonApp {
			return nil, fmt.Errorf("path %s: app name %q is reserved", p, commonApp)
		}
		if appPaths[app] == nil {
			appPaths[app] = obj{}
		}
		appPaths[app][p] = g.paths[p]
	}
	g.apps = sortedKeys(appPaths)

	// Direct component references of each component.
	deps := map[string][]string{}
	for _, n := range sortedKeys(g.schemas) {
		seen := map[string]bool{}
		walkRefs(g.schemas[n], func(o obj) {
			if r := refName(o); r != "" && !seen[r] {
				seen[r] = true
				deps[n] = append(deps[n], r)
			}
		})
	}
	closure := func(roots []string) map[string]bool {
		out := map[string]bool{}
		stack := append([]string{}, roots...)
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if out[n] {
				continue
			}
			if g.schemas[n] == nil {
				continue
			}
			out[n] = true
			stack = append(stack, deps[n]...)
		}
		return out
	}

	users := map[string][]string{} // component -> apps reaching it
	reach := map[string]map[string]bool{}
	for _, app := range g.apps {
		var roots []string
		walkRefs(appPaths[app], func(o obj) {
			if r := refName(o); r != "" {
				roots = append(roots, r)
			}
		})
		for _, r := range roots {
			if g.schemas[r] == nil {
				return nil, fmt.Errorf("app %s: reference to missing component %s", app, r)
			}
		}
		reach[app] = closure(roots)
		for n := range reach[app] {
			users[n] = append(users[n], app)
		}
	}
	var shared []string
	for _, n := range sortedKeys(users) {
		if len(users[n]) > 1 {
			shared = append(shared, n)
		}
	}
	common := closure(shared)

	g.home = map[string]string{}
	for n := range common {
		g.home[n] = commonApp
	}
	for _, n := range sortedKeys(users) {
		if !common[n] {
			g.home[n] = users[n][0]
		}
	}

	var specs []appSpec
	info := func(title string) obj {
		return obj{"title": "NetBox REST API: " + title, "version": g.version}
	}
	openapi := getStr(g.doc, "openapi")
	if openapi == "" {
		openapi = "3.0.3"
	}
	if len(common) > 0 {
		cs := obj{}
		for n := range common {
			cs[n] = g.schemas[n]
		}
		specs = append(specs, appSpec{commonApp, obj{
			"openapi": openapi, "info": info(commonApp), "paths": obj{},
			"components": obj{"schemas": cs},
		}})
	}
	for _, app := range g.apps {
		as := obj{}
		for n := range reach[app] {
			if !common[n] {
				as[n] = g.schemas[n]
			}
		}
		s := obj{"openapi": openapi, "info": info(app), "paths": appPaths[app], "components": obj{"schemas": as}}
		// Point references to shared components at the common document.
		walkRefs(s, func(o obj) {
			if r := refName(o); r != "" && common[r] {
				o["$ref"] = "common.json" + schemaRefPrefix + r
			}
		})
		specs = append(specs, appSpec{app, s})
	}
	sort.SliceStable(specs, func(i, j int) bool { return specs[i].app < specs[j].app })
	return specs, nil
}

// goTypeRef returns the Go type of component n as seen from the package of app:
// unqualified when n lives there, gencommon.X when it lives in gen/common.
func (g *generator) goTypeRef(app, n string) (ref string, common bool, err error) {
	switch home, ok := g.home[n]; {
	case !ok:
		return "", false, fmt.Errorf("component %s is not generated", n)
	case home == app:
		return typeName(n), false, nil
	case home == commonApp:
		return "gencommon." + typeName(n), true, nil
	default:
		return "", false, fmt.Errorf("component %s lives in %s, not in %s or common", n, home, app)
	}
}

func importAlias(app string) string {
	return "gen" + strings.ReplaceAll(pkgName(app), "_", "")
}

// pkgDir is the directory of an app package below netboxsdk/gen.
func pkgDir(app string) string {
	if rest, ok := strings.CutPrefix(app, "plugins/"); ok {
		return "plugins/" + pkgName(rest)
	}
	return pkgName(app)
}
