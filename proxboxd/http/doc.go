// Package http is proxboxd's HTTP API on echo v4: the routes the
// netbox-proxbox plugin calls (plugin-contract §12), grouped by namespace in
// small files (auth.go, endpoints.go, proxmox.go, stages.go, admin.go, ws.go,
// root.go, routes.go), echo's middleware configured for the contract
// (server.go: recover, secure headers, CORS, body limit, rate limit, and
// KeyAuth with the lockout in auth.go), the stage streams written with
// proxboxd/contract's writer (sse.go names its types here), run broadcasts
// with r3labs/sse (runevents.go), the operator view's broadcast and the log
// stream on r3labs/sse (adminlive.go), the log ring (logbuf.go), the
// operator view at /admin (adminview.go, its page in adminui/) and
// Prometheus metrics with client_golang (metrics.go).
//
// # Wire compatibility
//
// Everything the plugin parses keeps the Python backend's shape: error bodies
// {"detail": …} with "API key" in every auth failure; bootstrap-status and
// register-key (201/409/400); the endpoint lists; /proxmox/version as a list
// of {session: {version, release, repoid}}; /proxmox/sessions with mode;
// flat /proxmox/cluster/status records; [{cluster: [...]}] for resources and
// storage; SSE frames "event: <name>\ndata: <one-line JSON>\n\n" with
// ": keepalive" comments and exactly one `complete` {ok, message, result,
// errors:[{detail}]} per stream.
//
// # QUIRKs of proxbox-api (contract §1-§6, §12) fixed here
//
// Fixed where the plugin does not depend on the behaviour:
//
//   - Auth: keys are stored as SHA-256 (not bcrypt per request per key);
//     comparison is constant-time over all active keys.
//   - X-Forwarded-For was trusted from anyone; it is honoured only from
//     configured trusted proxies (right-most untrusted hop).
//   - Rate limit: 60/min per IP tripped the chatty plugin; the default is a
//     1200/min token bucket, and / and /health are never throttled.
//   - CORS ran inside the auth middleware, so preflights got 401; CORS now
//     runs first. /admin/logs and /admin/logs/stream are exempt from the key
//     (configurable) so the plugin's browser-side log page works.
//   - register-key was not atomic; the first-key insert is a single
//     conditional INSERT.
//   - Proxmox endpoint POST with an existing name failed (400); it now
//     upserts by name, and by the "(nb:<pk>)" suffix so a rename in NetBox
//     updates the row instead of leaving a stale duplicate.
//   - NetBox endpoint POST with a row present failed; it now updates the one
//     row.
//   - proxmox_endpoint_ids / netbox_endpoint_ids were ignored; they are
//     parsed and passed to the Syncer. The plugin (0.0.24+) sends backend
//     endpoint ids; ids that name no stored endpoint are read as the plugin
//     PKs of older releases and mapped through "(nb:<pk>)".
//   - The VM stage ignored sync_vm_network; it is parsed and passed on.
//   - Query booleans: "True"/"true"/"1" all parse (case-insensitive).
//   - One unreachable Proxmox endpoint failed every /proxmox read (400); it
//     is skipped unless all fail (502).
//   - /proxmox/nodes/ returned only the first node per session; it returns
//     every node as a flat list (works with plugin b3c09da1 and HEAD).
//   - /proxmox/api2/... proxied writes for any key holder; writes need
//     allow_writes, credential routes are never proxied, paths are validated
//     segment by segment (no "..", no encoded characters).
//   - vm_type is accepted as an alias of type on /sync/individual/task-history.
//   - dependencies_synced is always a list of objects.
//   - Client disconnects and shutdown cancel the stage work and still end the
//     stream with one `complete` (the Python backend sent nothing on shutdown).
//   - Secrets: AES-256-GCM with the column name as additional data (Fernet
//     with plaintext fallback before); no plaintext mode; the key comes from
//     PROXBOX_ENCRYPTION_KEY or a 0600 key file, never from the NetBox
//     setting the key itself protects; a wrong key fails at startup.
//   - Endpoint addresses are checked against the SSRF policy at registration
//     and again at dial time (link-local and cloud metadata refused unless
//     allowed); environment HTTP proxies are not used for endpoint traffic.
//   - The database file defaults to $XDG_DATA_HOME/proxbox/ (not
//     site-packages) and is created 0600.
//   - Plugin settings are read as results[0] of the paginated list;
//     precedence is flags > env > plugin settings > defaults (the Python
//     backend made several env vars dead).
//
// Kept on purpose: /health is always 200 and exempt; /version reports a
// version >= 0.0.15; /proxmox/version stays a list of dicts of dicts;
// cluster/status is flat; HTTP status is 200 once a stream started.
package http
