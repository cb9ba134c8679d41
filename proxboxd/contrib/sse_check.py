#!/usr/bin/env python3
"""Check live proxboxd stage streams with the netbox-proxbox plugin's rules.

Standard library only. For every stage path (plugin-contract section 4) it
sends the plugin's GET (X-Proxbox-API-Key header, no Accept header, the
plugin's query including Python's capitalised ``True``), parses the stream
line by line exactly like the plugin's ``_iter_sse_frames`` (section 3.3),
validates the ``complete`` event like the plugin's pydantic model (section
3.4) and maps the outcome like ``run_sync_stream`` (section 3.5):

* 2xx + last ``complete`` with ok true (or missing)  -> 200, stage OK
* ``complete`` with ok false                         -> 503
* stream ends without ``complete``                   -> 502
* HTTP error                                         -> that status

Usage:
    sse_check.py --url http://127.0.0.1:8800 --key KEY [--path P ...] [--require-frames]

Exit status 0 when every stream succeeds, 1 otherwise.
"""

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

STAGES = [
    ("devices", "dcim/devices/create/stream", {}),
    ("storage", "virtualization/virtual-machines/storage/create/stream", {}),
    ("virtual-machines", "virtualization/virtual-machines/create/stream", {"sync_vm_network": "false"}),
    ("task-history", "virtualization/virtual-machines/task-history/create/stream", {}),
    ("vm-disks", "virtualization/virtual-machines/virtual-disks/create/stream", {}),
    ("vm-backups", "virtualization/virtual-machines/backups/all/create/stream", {"delete_nonexistent_backup": True}),
    ("vm-snapshots", "virtualization/virtual-machines/snapshots/all/create/stream", {"delete_nonexistent_snapshot": True}),
    ("network-interfaces", "dcim/devices/interfaces/create/stream", {}),
    ("vm-interfaces", "virtualization/virtual-machines/interfaces/create/stream", {}),
    ("ip-addresses", "virtualization/virtual-machines/interfaces/ip-address/create/stream", {}),
    ("replications", "proxmox/replication/stream", {}),
    ("backup-routines", "proxmox/cluster/backup/stream", {}),
]

BASE_QUERY = {
    "use_guest_agent_interface_name": "true",
    "fetch_max_concurrency": 8,
    "ignore_ipv6_link_local_addresses": "true",
    "primary_ip_preference": "ipv4",
}


class ValidationError(Exception):
    pass


def iter_sse_frames(lines):
    """The plugin's parser: comments ignored, event: flushes, blank line ends a frame."""
    event = None
    data = []

    def flush():
        nonlocal data
        if not data:
            return None
        text = "\n".join(data)
        data = []
        try:
            value = json.loads(text)
        except ValueError:
            value = {"raw": text}
        if not isinstance(value, dict):
            value = {"raw": value}
        return (event or "message", value)

    for line in lines:
        if line is None:
            continue
        if line.startswith(":"):
            continue
        if line.startswith("event:"):
            frame = flush()
            if frame:
                yield frame
            event = line[len("event:"):].strip()
            continue
        if line.startswith("data:"):
            data.append(line[len("data:"):].lstrip(" "))
            continue
        if line == "":
            frame = flush()
            if frame:
                yield frame
            event = None
            continue
        data.append(line)
    frame = flush()
    if frame:
        yield frame


def validate_complete(payload):
    """Mirror of the plugin's model: ok bool=True, message str|None,
    result dict|list|None, errors list of dicts (extra keys allowed)."""
    ok = payload.get("ok", True)
    if not isinstance(ok, bool):
        raise ValidationError("complete.ok must be a bool, got %r" % (ok,))
    message = payload.get("message")
    if message is not None and not isinstance(message, str):
        raise ValidationError("complete.message must be a string, got %r" % (message,))
    result = payload.get("result")
    if result is not None and not isinstance(result, (dict, list)):
        raise ValidationError("complete.result must be an object, list or null, got %r" % (result,))
    errors = payload.get("errors", [])
    if errors is None:
        errors = []
    if not isinstance(errors, list) or not all(isinstance(e, dict) for e in errors):
        raise ValidationError("complete.errors must be a list of objects, got %r" % (errors,))
    return {"ok": ok, "message": message, "result": result, "errors": errors}


def encode_query(params):
    # requests encodes Python True as "True": reproduce it.
    return urllib.parse.urlencode({k: (str(v) if not isinstance(v, str) else v) for k, v in params.items()})


def read_lines(resp):
    for raw in resp:
        yield raw.decode("utf-8").rstrip("\r\n")


def run_stream(base, key, path, params, timeout):
    url = "%s/%s?%s" % (base.rstrip("/"), path.lstrip("/"), encode_query(params))
    req = urllib.request.Request(url, method="GET")
    if key:
        req.add_header("X-Proxbox-API-Key", key)
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")
        try:
            detail = json.loads(body).get("detail") or body
        except ValueError:
            detail = body
        return exc.code, str(detail), []
    except (urllib.error.URLError, OSError) as exc:
        return 503, str(exc), []
    frames = []
    complete = None
    with resp:
        for name, payload in iter_sse_frames(read_lines(resp)):
            frames.append((name, payload))
            if name == "complete":
                complete = validate_complete(payload)  # last one wins
    if complete is None:
        return 502, "ProxBox backend stream ended without a complete event.", frames
    if not complete["ok"]:
        detail = None
        if complete["errors"]:
            detail = complete["errors"][0].get("detail")
        return 503, detail or complete["message"] or "Sync failed.", frames
    return 200, complete["message"] or "", frames


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="proxboxd base URL")
    ap.add_argument("--key", default="", help="X-Proxbox-API-Key")
    ap.add_argument("--path", action="append", help="stage path(s); default: all 12")
    ap.add_argument("--timeout", type=float, default=3600, help="read timeout between chunks (plugin: 3600)")
    ap.add_argument("--require-frames", action="store_true", help="also require a step frame before complete")
    args = ap.parse_args(argv)

    stages = STAGES
    if args.path:
        stages = [(p, p, {}) for p in args.path]
    failed = 0
    for name, path, extra in stages:
        params = dict(BASE_QUERY)
        params.update(extra)
        try:
            status, detail, frames = run_stream(args.url, args.key, path, params, args.timeout)
        except ValidationError as exc:
            # the plugin would crash the job with an unhandled pydantic error
            print("FAIL %-20s invalid complete event: %s" % (name, exc))
            failed += 1
            continue
        completes = sum(1 for n, _ in frames if n == "complete")
        problems = []
        if status != 200:
            problems.append("HTTP %d: %s" % (status, detail))
        if status == 200 and completes != 1:
            problems.append("%d complete events (want exactly 1)" % completes)
        if status == 200 and frames and frames[-1][0] != "complete":
            problems.append("complete is not the last frame")
        if args.require_frames and not any(n == "step" for n, _ in frames):
            problems.append("no step frame")
        if problems:
            failed += 1
            print("FAIL %-20s %s" % (name, "; ".join(problems)))
        else:
            print("ok   %-20s %d frames: %s" % (name, len(frames), detail))
    print("%d/%d streams passed" % (len(stages) - failed, len(stages)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
