#!/usr/bin/env python3
"""Check proxboxd stage streams with the netbox-proxbox plugin's rules.

Standard library only. It reads a stream exactly like netbox-proxbox
0.0.29.post6 does (plugin-contract sections 3.3 to 3.5):

* requests' ``iter_lines(decode_unicode=True)``: the body in chunks of 512
  bytes, decoded with the charset of the Content-Type (ISO-8859-1 for a
  ``text/*`` type without one; bytes, decoded per line as UTF-8, without a
  usable type), split with ``str.splitlines``, the last piece of a chunk
  held back when the chunk did not end in a line break;
* ``_iter_sse_frames``: comments ignored, ``event:`` ends the pending frame
  and names the next, ``data:`` text with leading whitespace stripped, a
  blank line ends a frame, a frame without data is dropped, JSON that is not
  an object becomes ``{"raw": ...}``;
* ``SseCompletePayload`` (pydantic, lax): ``ok`` a bool (default true;
  "true", 1, "yes" ... accepted), ``message`` str or null (stripped),
  ``result`` object, array or null, ``errors`` a list of objects (default
  [], null refused);
* ``_consume_sse_until_complete``: an invalid ``complete`` stops the read
  with 502 "invalid complete event"; otherwise the last ``complete`` wins:
  ok true -> 200, ok false -> 503 (errors[0].detail, else message, else
  "Sync failed."), none -> 502.

Modes:
    sse_check.py --url http://127.0.0.1:8800 --key KEY [--path P ...] [--require-frames]
        GET every stage stream (or the given paths) with the plugin's query
        and header; exit status 0 when every stream succeeds, 1 otherwise.
    sse_check.py --verdicts < cases.json
        cases.json is a JSON list of {"body": <base64>, "content_type": str,
        "chunk_size": int}; prints a JSON list of verdicts {"status",
        "detail", "invalid", "frames": [[event, data], ...]} (the table
        test of proxboxd/contract runs the Go reader against this).
"""

import argparse
import base64
import codecs
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

ITER_CHUNK_SIZE = 512

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

DETAIL_NO_COMPLETE = "ProxBox backend stream ended without a complete event."
DETAIL_INVALID_COMPLETE = "ProxBox backend stream sent an invalid complete event: "

MSG_BOOL = "Input should be a valid boolean"
MSG_BOOL_PARSE = "Input should be a valid boolean, unable to interpret input"
MSG_STRING = "Input should be a valid string"
MSG_DICT = "Input should be a valid dictionary"
MSG_LIST = "Input should be a valid list"


class ValidationError(Exception):
    """A complete payload the plugin's model refuses; msg is pydantic's text."""

    def __init__(self, field, msg):
        super().__init__("complete.%s: %s" % (field, msg))
        self.field = field
        self.msg = msg


# ---- requests: get_encoding_from_headers, iter_content, iter_lines ----

def get_encoding_from_headers(content_type):
    if not content_type:
        return None
    tokens = content_type.split(";")
    media_type = tokens[0].strip(" \"'")
    for param in tokens[1:]:
        param = param.strip()
        if "=" not in param:
            continue
        key, value = param.split("=", 1)
        if key.strip(" \"'").lower() == "charset":
            return value.strip(" \"'").strip("'\"")
    if "text" in media_type:
        return "ISO-8859-1"
    if "application/json" in media_type:
        return "utf-8"
    return None


def decode_chunks(chunks, encoding):
    if encoding is None:
        yield from chunks
        return
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    for chunk in chunks:
        rv = decoder.decode(chunk)
        if rv:
            yield rv
    rv = decoder.decode(b"", final=True)
    if rv:
        yield rv


def iter_lines(chunks, encoding):
    """requests.Response.iter_lines(decode_unicode=True)."""
    pending = None
    for chunk in decode_chunks(chunks, encoding):
        if pending is not None:
            chunk = pending + chunk
        lines = chunk.splitlines()
        if lines and lines[-1] and chunk and lines[-1][-1] == chunk[-1]:
            pending = lines.pop()
        else:
            pending = None
        yield from lines
    if pending is not None:
        yield pending


def split_chunks(body, chunk_size):
    for i in range(0, len(body), chunk_size):
        yield body[i:i + chunk_size]


# ---- netbox_proxbox.services.backend_proxy._iter_sse_frames ----

def iter_sse_frames(line_iter):
    event_name = ""
    data_lines = []

    def flush():
        nonlocal event_name, data_lines
        if not data_lines:
            event_name = ""
            return
        payload_str = "\n".join(data_lines)
        try:
            data_obj = json.loads(payload_str)
        except ValueError:
            data_obj = {"raw": payload_str}
        ev = event_name or "message"
        if not isinstance(data_obj, dict):
            data_obj = {"raw": data_obj}
        yield (ev, data_obj)
        event_name = ""
        data_lines = []

    for raw in line_iter:
        if raw is None:
            continue
        line = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        if line == "":
            yield from flush()
            continue
        if line.startswith(":"):
            continue
        if line.startswith("event:"):
            yield from flush()
            event_name = line[6:].strip()
        elif line.startswith("data:"):
            data_lines.append(line[5:].lstrip())
        else:
            data_lines.append(line)
    yield from flush()


# ---- SseCompletePayload (pydantic v2, lax mode, str_strip_whitespace) ----

_TRUE = {"1", "on", "t", "true", "y", "yes"}
_FALSE = {"0", "off", "f", "false", "n", "no"}


def _lax_bool(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        if v in (0, 1):
            return bool(v)
        raise ValidationError("ok", MSG_BOOL_PARSE)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")) or not v.is_integer():
            raise ValidationError("ok", MSG_BOOL)
        if v in (0.0, 1.0):
            return bool(v)
        raise ValidationError("ok", MSG_BOOL_PARSE)
    if isinstance(v, str):
        low = v.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValidationError("ok", MSG_BOOL_PARSE)
    raise ValidationError("ok", MSG_BOOL)


def _strip(s):
    # pydantic-core trims Unicode White_Space: str.isspace less U+001C..U+001F
    ws = "".join(c for c in set(s) if c.isspace() and c not in "\x1c\x1d\x1e\x1f")
    return s.strip(ws) if ws else s


def validate_complete(payload):
    ok = _lax_bool(payload["ok"]) if "ok" in payload else True
    message = payload.get("message")
    if message is not None:
        if not isinstance(message, str):
            raise ValidationError("message", MSG_STRING)
        message = _strip(message)
    result = payload.get("result")
    if result is not None and not isinstance(result, (dict, list)):
        raise ValidationError("result", MSG_DICT)
    errors = payload.get("errors", [])
    if not isinstance(errors, list):
        raise ValidationError("errors", MSG_LIST)
    for i, e in enumerate(errors):
        if not isinstance(e, dict):
            raise ValidationError("errors.%d" % i, MSG_DICT)
    return {"ok": ok, "message": message, "result": result, "errors": errors}


def failure_detail(complete):
    msg = complete["message"] or "Sync failed."
    if complete["errors"] and complete["errors"][0].get("detail"):
        detail = complete["errors"][0]["detail"]
        msg = detail if isinstance(detail, str) else json.dumps(detail, default=str)
    return msg


# ---- _consume_sse_until_complete ----

def consume(chunks, content_type, on_frame=None):
    """Return (status, detail, invalid, frames) as the plugin classifies them."""
    frames = []
    last_complete = None
    lines = iter_lines(chunks, get_encoding_from_headers(content_type))
    for event, data in iter_sse_frames(lines):
        frames.append((event, data))
        if on_frame is not None:
            on_frame(event, data)
        if event == "complete":
            try:
                last_complete = validate_complete(data)
            except ValidationError as exc:
                return 502, DETAIL_INVALID_COMPLETE + exc.msg, True, frames
    if last_complete is None:
        return 502, DETAIL_NO_COMPLETE, False, frames
    if last_complete["ok"] is False:
        return 503, failure_detail(last_complete), False, frames
    return 200, last_complete["message"] or "", False, frames


def verdicts(cases):
    out = []
    for case in cases:
        body = base64.b64decode(case["body"])
        chunk_size = int(case.get("chunk_size") or ITER_CHUNK_SIZE)
        status, detail, invalid, frames = consume(split_chunks(body, chunk_size), case.get("content_type", ""))
        out.append({"status": status, "detail": detail, "invalid": invalid,
                    "frames": [[event, data] for event, data in frames]})
    return out


# ---- live streams ----

def encode_query(params):
    # requests encodes Python True as "True": reproduce it.
    return urllib.parse.urlencode({k: (str(v) if not isinstance(v, str) else v) for k, v in params.items()})


def read_chunks(resp):
    read = getattr(resp, "read1", resp.read)
    while True:
        chunk = read(ITER_CHUNK_SIZE)
        if not chunk:
            return
        yield chunk


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
        return exc.code, str(detail), False, []
    except (urllib.error.URLError, OSError) as exc:
        return 503, str(exc), False, []
    with resp:
        try:
            return consume(read_chunks(resp), resp.headers.get("Content-Type", ""))
        except OSError as exc:
            return 502, str(exc), False, []


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="proxboxd base URL")
    ap.add_argument("--key", default="", help="X-Proxbox-API-Key")
    ap.add_argument("--path", action="append", help="stage path(s); default: all 12")
    ap.add_argument("--timeout", type=float, default=3600, help="read timeout between chunks (plugin: 3600)")
    ap.add_argument("--require-frames", action="store_true", help="also require a step frame before complete")
    ap.add_argument("--verdicts", action="store_true", help="classify the bodies of a JSON case list on stdin")
    args = ap.parse_args(argv)

    if args.verdicts:
        json.dump(verdicts(json.load(sys.stdin)), sys.stdout)
        sys.stdout.write("\n")
        return 0
    if not args.url:
        ap.error("--url is required (or --verdicts)")

    stages = STAGES
    if args.path:
        stages = [(p, p, {}) for p in args.path]
    failed = 0
    for name, path, extra in stages:
        params = dict(BASE_QUERY)
        params.update(extra)
        status, detail, invalid, frames = run_stream(args.url, args.key, path, params, args.timeout)
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
