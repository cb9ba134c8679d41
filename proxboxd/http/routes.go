package http

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/proxbox-go/proxbox/proxboxd/contract"
)

var sessionQuery = []string{"source", "name", "domain", "ip_address"}

func (s *Server) registerRoutes() {
	G, P, U, D := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete

	// root & meta
	s.add(G, "/", "meta", "Service banner (the plugin's FastAPI keepalive)", s.root, exempt())
	s.add(G, "/health", "meta", "Readiness: always 200 while serving", s.health, exempt())
	s.add(G, "/version", "meta", "Backend version (the plugin's OpenAPI cache key)", s.version, exempt())
	s.add(G, "/openapi.json", "meta", "This OpenAPI document", s.openapi, exempt())
	s.add(G, "/metrics", "meta", "Prometheus metrics", s.metricsHandler)
	s.add(G, "/cache", "cache", "Cache overview", s.cacheInfo)
	s.add(G, "/cache/metrics", "cache", "Cache metrics (JSON)", s.cacheMetrics)
	s.add(G, "/cache/metrics/prometheus", "cache", "Cache metrics (Prometheus)", s.cacheMetricsProm)
	s.add(G, "/clear-cache", "cache", "Drop cached sessions, clients and settings", s.clearCache)

	// auth
	s.add(G, "/auth/bootstrap-status", "auth", "Whether a first key must be registered", s.bootstrapStatus, exempt())
	s.add(P, "/auth/register-key", "auth", "Register the first API key (201, then 409)", s.registerKey, exempt())
	s.add(G, "/auth/keys", "auth", "List API keys (no secrets)", s.listKeys)
	s.add(P, "/auth/keys", "auth", "Create an API key (returned once)", s.createKey)
	s.add(D, "/auth/keys/:id", "auth", "Delete an API key", s.deleteKey)
	s.add(P, "/auth/keys/:id/deactivate", "auth", "Revoke an API key", s.setKeyActive(false))
	s.add(P, "/auth/keys/:id/activate", "auth", "Re-activate an API key", s.setKeyActive(true))

	// admin
	s.add(G, "/admin", "admin", "Operator view: endpoints and health, the runs going on (live), the last runs, the newest dry-run plan, the last run's errors, the live log", s.adminPage)
	s.add(G, "/admin/", "admin", "Operator view", s.adminPage)
	s.add(G, "/admin/assets/:file", "admin", "The operator view's stylesheet and script", s.adminAsset, exempt())
	s.add(G, "/admin/api/overview", "admin", "What the operator view shows: latest and running runs per stage, the last runs, errors, the newest dry-run plan", s.adminOverviewHandler)
	s.add(G, "/admin/api/health", "admin", "Every endpoint with its health", s.adminHealth)
	s.add(G, "/admin/events", "admin", "The operator view's broadcast (SSE: `run` when a sync run starts, `finished` when it ends)", s.adminEvents, streamRoute())
	s.add(G, "/admin/runs/:id/events", "admin", "GET /runs/{id}/events for the operator view", s.runEventsHandler, streamRoute())
	s.add(G, "/admin/logs", "admin", "Log ring buffer", s.adminLogs, query("level", "errors_only", "operation_id", "since", "newer_than_id", "older_than_id", "limit", "offset"))
	s.add(G, "/admin/logs/stream", "admin", "Live log (SSE event `log`)", s.adminLogsStream, streamRoute(), query("level", "errors_only", "operation_id", "newer_than_id"))
	s.add(G, "/admin/runs", "admin", "Sync-run history", s.adminRuns, query("limit"))
	s.add(G, "/runs/:id/events", "admin", "Events of one sync run for any number of watchers (SSE: `run` state, progress, `complete`; late joiners get a replay)", s.runEventsHandler, streamRoute())

	// netbox endpoint
	s.add(G, "/netbox/endpoint", "netbox", "List the NetBox endpoint", s.listNetBox)
	s.add(P, "/netbox/endpoint", "netbox", "Create (or update) the NetBox endpoint", s.createNetBox)
	s.add(G, "/netbox/endpoint/:id", "netbox", "Get the NetBox endpoint", s.getNetBox)
	s.add(U, "/netbox/endpoint/:id", "netbox", "Update the NetBox endpoint", s.updateNetBox)
	s.add(D, "/netbox/endpoint/:id", "netbox", "Delete the NetBox endpoint", s.deleteNetBox)
	s.add(G, "/netbox/status", "netbox", "NetBox /api/status/ passthrough", s.netboxStatus)

	// proxmox endpoints and reads
	s.add(G, "/proxmox/endpoints", "proxmox", "List Proxmox endpoints", s.listProxmoxEndpoints)
	s.add(P, "/proxmox/endpoints", "proxmox", "Upsert a Proxmox endpoint by name", s.createProxmoxEndpoint)
	s.add(G, "/proxmox/endpoints/:id", "proxmox", "Get a Proxmox endpoint", s.getProxmoxEndpoint)
	s.add(U, "/proxmox/endpoints/:id", "proxmox", "Update a Proxmox endpoint", s.updateProxmoxEndpoint)
	s.add(D, "/proxmox/endpoints/:id", "proxmox", "Delete a Proxmox endpoint", s.deleteProxmoxEndpoint)
	s.add(G, "/proxmox/version", "proxmox", "PVE version per session: [{name: {version, release, repoid}}]", s.proxmoxVersion, query(sessionQuery...))
	s.add(G, "/proxmox/sessions", "proxmox", "Opened sessions", s.proxmoxSessions, query(sessionQuery...))
	s.add(G, "/proxmox/cluster/status", "proxmox", "Cluster status records", s.clusterStatus, query(sessionQuery...))
	s.add(G, "/proxmox/cluster/resources", "proxmox", "Cluster resources per cluster", s.clusterResources, query(append(sessionQuery, "type")...))
	s.add(G, "/proxmox/nodes/", "proxmox", "Node metrics of every node", s.proxmoxNodes, query(sessionQuery...))
	s.add(G, "/proxmox/nodes", "proxmox", "Node metrics of every node", s.proxmoxNodes, query(sessionQuery...))
	s.add(G, "/proxmox/storage", "proxmox", "Storages per cluster with usage", s.proxmoxStorage, query(sessionQuery...))
	s.add(G, "/proxmox/nodes/:node/storage/:storage/content", "proxmox", "Storage content", s.storageContent, query(append(sessionQuery, "vmid", "content")...))
	s.add(G, "/proxmox/nodes/:node/qemu/:vmid/firewall", "proxmox", "VM firewall rules and options", s.vmFirewall, query(sessionQuery...))
	s.add(G, "/proxmox/firewall/summary", "proxmox", "Datacenter firewall per cluster: security groups with rules, rules, IP sets with entries, aliases, options", s.firewallSummary, query(append(sessionQuery, "proxmox_endpoint_ids")...))
	s.add(G, "/proxmox/firewall/nodes/:node/rules", "proxmox", "Firewall rules of one node", s.nodeFirewallRules, query(append(sessionQuery, "proxmox_endpoint_ids")...))
	s.add(G, "/proxmox/datacenter/cpu-models", "proxmox", "Custom CPU models per cluster", s.cpuModels, query(append(sessionQuery, "proxmox_endpoint_ids")...))
	s.add(G, "/proxmox/:node/:type/:vmid/config", "proxmox", "Guest config", s.vmConfig, query(sessionQuery...))
	for _, m := range []string{G, P, U, D} {
		s.add(m, "/proxmox/api2/*", "proxmox", "Proxmox API passthrough (writes only with allow_writes)", s.api2, query(sessionQuery...))
	}

	// stage streams
	for _, st := range contract.Stages {
		s.add(G, st.Path, "sync", "Stage "+st.Slug()+" (SSE)", s.stageHandler(st.ID, false), streamRoute(), query(contract.QueryParams...))
	}
	for _, st := range contract.Stages {
		if st.VMPath != "" {
			s.add(G, strings.Replace(st.VMPath, contract.VMIDPlaceholder, ":id", 1), "sync", "Stage "+st.Slug()+" for one NetBox VM (SSE)",
				s.stageHandler(st.ID, true), streamRoute(), query(contract.QueryParams...))
		}
	}
	s.add(G, "/full-update", "sync", "All stages in order (JSON)", s.fullUpdateJSON, query(contract.QueryParams...))
	s.add(G, "/full-update/stream", "sync", "All stages in order (SSE)", s.fullUpdateStream, streamRoute(), query(contract.QueryParams...))
	for _, k := range IndividualKinds() {
		h := s.individualHandler(k)
		q := append(append([]string{}, individualRequired[k]...), "dry_run")
		if k == "task-history" {
			q = append(q, "vm_type", "cluster_name", "upid")
		}
		s.add(G, "/sync/individual/"+k, "sync", "Sync one "+k, h, query(q...))
		s.add(P, "/sync/individual/"+k, "sync", "Sync one "+k, h, query(q...))
	}
	s.add(G, "/sync/individual/vm/:cluster_name/:node/:type/:vmid", "sync", "Sync one VM (path form)", s.individualHandler("vm"), query("dry_run"))

	// websocket (in-band auth)
	s.add(G, "/ws", "ws", "WebSocket: first message {\"api_key\"}, close 4001 on failure", s.ws, exempt())
}

var paramRe = regexp.MustCompile(`:([A-Za-z_]+)`)

// OpenAPIPath converts echo syntax to OpenAPI ("/a/:id" -> "/a/{id}",
// "*" -> "{path}").
func OpenAPIPath(p string) string {
	p = paramRe.ReplaceAllString(p, "{$1}")
	return strings.Replace(p, "*", "{path}", 1)
}

func (s *Server) openapi(c echo.Context) error {
	paths := map[string]map[string]any{}
	for _, r := range s.Routes() {
		p := OpenAPIPath(r.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		var params []map[string]any
		for _, m := range paramRe.FindAllStringSubmatch(r.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
		}
		if strings.Contains(r.Path, "*") {
			params = append(params, map[string]any{"name": "path", "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
		}
		for _, q := range r.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": map[string]string{"type": "string"}})
		}
		ct := "application/json"
		if r.Stream {
			ct = "text/event-stream"
		}
		op := map[string]any{
			"summary":     r.Summary,
			"operationId": strings.ToLower(r.Method) + strings.NewReplacer("/", "_", ":", "", "*", "path", "-", "_", ".", "_").Replace(r.Path),
			"tags":        []string{r.Tag},
			"responses": map[string]any{
				"200": map[string]any{"description": "OK", "content": map[string]any{ct: map[string]any{"schema": map[string]string{"type": "object"}}}},
				"401": map[string]any{"description": "Missing or invalid API key", "content": map[string]any{"application/json": map[string]any{"schema": map[string]string{"$ref": "#/components/schemas/Error"}}}},
				"429": map[string]any{"description": "Locked out or rate limited (Retry-After)"},
			},
		}
		if params != nil {
			op["parameters"] = params
		}
		if r.Exempt {
			op["security"] = []any{}
		}
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			op["requestBody"] = map[string]any{"required": false, "content": map[string]any{"application/json": map[string]any{"schema": map[string]string{"type": "object"}}}}
		}
		paths[p][strings.ToLower(r.Method)] = op
	}
	tags := []map[string]string{}
	for _, t := range []string{"meta", "auth", "admin", "cache", "netbox", "proxmox", "sync", "ws"} {
		tags = append(tags, map[string]string{"name": t})
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "proxboxd", "version": Version,
			"description": "Go backend for the netbox-proxbox plugin: endpoint store, SSE stage streams, Proxmox reads."},
		"servers":  []map[string]string{{"url": "/", "description": "this server"}},
		"tags":     tags,
		"paths":    paths,
		"security": []map[string][]string{{"APIKeyHeader": {}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{"APIKeyHeader": map[string]string{"type": "apiKey", "in": "header", "name": HeaderAPIKey}},
			"schemas": map[string]any{
				"Error": map[string]any{"type": "object", "properties": map[string]any{"detail": map[string]string{"type": "string"}}},
				"Complete": map[string]any{"type": "object", "properties": map[string]any{
					"ok": map[string]string{"type": "boolean"}, "message": map[string]string{"type": "string"},
					"result": map[string]any{"type": []string{"object", "null"}}, "errors": map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/Error"}}}},
			},
		},
	}
	return c.JSON(http.StatusOK, doc)
}
