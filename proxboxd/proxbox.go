// Package proxbox holds the domain types of proxboxd, the Go backend for the
// netbox-proxbox plugin. Subpackages implement them per dependency: sqlite
// (store), http (routes, SSE, auth), sync (the 12 stages), wiring in cmd/.
package proxbox
