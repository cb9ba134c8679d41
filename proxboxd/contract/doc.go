// Package contract is the wire contract between the netbox-proxbox NetBox
// plugin and its backend, in one place: the 12 sync stages (slug, stream
// path, per-VM path, what an "all" run adds to the query), the stage query
// the plugin sends and how the backend reads it, the SSE frame writer, and
// the plugin's reading of a stage stream (requests' iter_lines, its
// _iter_sse_frames parser, its `complete` model and its success mapping).
//
// proxboxd's HTTP layer writes with it, the demo and the bench plugin
// emulation read with it, and contrib/sse_check.py carries the same reader
// rules in Python (a table test runs both over the same frames).
//
// Where this package describes the plugin it follows netbox-proxbox
// 0.0.29.post6 (the release tools/versions.env pins) and
// plugin-contract.md for the stage table (main revision): a `complete` that
// fails validation ends the stream as the plugin's 502 "invalid complete
// event" instead of crashing the job, `ok` is read with pydantic's lax
// booleans ("true", 1, "yes"), and `errors: null` is invalid.
package contract
