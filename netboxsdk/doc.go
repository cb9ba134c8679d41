// Package netboxsdk is a NetBox REST client: transport, retries, caching,
// precise errors, lazy pagination and generic typed collections
// (Collection[T, C, P]), with no generated code of its own apart from the
// filter-name table. The typed collections and models of each NetBox app are
// generated into their own package below gen/ (import only the apps you use:
// virtualization.New(nb).VirtualMachines); package typed wires every app at
// once (nb.Virtualization.VirtualMachines).
package netboxsdk
