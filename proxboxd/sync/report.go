package sync

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/proxbox-go/proxbox/netboxsdk"
	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// seen records what the stage did to one object (id 0 when it has none);
// the stage's Counts are made from these at its end, each object once.
func (r *run) seen(typ string, id int, name string, a proxbox.Action) {
	r.res.Objects.Add(typ, id, name, a)
}

func (r *run) fail(typ, name string, err error) {
	r.seen(typ, 0, name, proxbox.ActionFailed)
	detail := "unknown error"
	if err != nil {
		detail = err.Error()
	}
	r.res.Failures = append(r.res.Failures, proxbox.ItemFailure{ObjectType: typ, Name: name, Detail: detail})
	verb := "write"
	if strings.HasPrefix(typ, "proxmox.") {
		verb = "read"
	}
	r.emit(proxbox.Event{Name: "error_detail", Data: map[string]any{"event": "error_detail", "phase": r.phase,
		"item": map[string]any{"name": name, "item_type": typ}, "category": category(err),
		"message": fmt.Sprintf("Failed to %s %s %q", verb, typ, name), "detail": detail}})
}

// skip reports an object the engine decided not to write, with the reason:
// counted as Skipped, listed in StageResult.Skipped (the plugin sees it in
// the complete frame's result and the run record keeps it) and announced as
// an item_progress frame with status "skipped" and the reason as warning.
// A stage with skipped items is partial.
func (r *run) skip(typ, name, reason string) {
	r.locked(func() {
		r.seen(typ, 0, name, proxbox.ActionSkipped)
		r.res.Skipped = append(r.res.Skipped, proxbox.ItemSkip{ObjectType: typ, Name: name, Reason: reason})
	})
	r.emit(proxbox.Event{Name: "item_progress", Data: map[string]any{"event": "item_progress", "phase": r.phase,
		"status": "skipped", "message": fmt.Sprintf("Skipped %s %q: %s", typ, name, reason),
		"item": map[string]any{"name": name, "item_type": typ}, "warning": reason}})
}

// notRead reports a Proxmox read that failed even after the client's
// retries (or was not attempted: its node is offline). Whatever depends on
// it was left as NetBox has it; the stage stays ok and is partial. what
// says what was not read and left alone; one failure per (type, name) and
// stage.
func (r *run) notRead(typ, name, what string, err error) {
	r.res.Partial = true
	key := typ + "\x00" + name
	if r.reported[key] {
		return
	}
	if r.reported == nil {
		r.reported = map[string]bool{}
	}
	r.reported[key] = true
	if err == nil {
		err = errors.New("not read")
	}
	r.fail(typ, name, fmt.Errorf("%s: %w", what, err))
}

// guestNotRead reports a guest part (config, guest-agent interfaces,
// snapshots) that was not read and what of the guest was left unchanged:
// per guest, or once per node when the node is offline.
func (r *run) guestNotRead(c *cluster, g *guest, part, kept string, err error) {
	var off *nodeOfflineError
	if errors.As(err, &off) {
		r.notRead("proxmox.node", c.label()+"/"+off.node, fmt.Sprintf("guests' %s not read (%s left unchanged)", part, kept), err)
		return
	}
	r.notRead("proxmox.guest", fmt.Sprintf("%s/%s %s", c.label(), g.key(), g.Name), fmt.Sprintf("%s not read (%s left unchanged)", part, kept), err)
}

// category classifies err for error_detail by the SDKs' typed errors and
// sentinels (errors.Is/As), never by message text: a VM named web400 must not
// turn a timeout into a validation error.
func category(err error) string {
	var (
		pveAPI *proxmoxsdk.APIError
		nbNet  *netboxsdk.TransportError
		netErr net.Error
		opErr  *net.OpError
		off    *nodeOfflineError
	)
	switch {
	case err == nil:
		return "unknown"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, netboxsdk.ErrUnauthorized), errors.Is(err, proxmoxsdk.ErrAuth), errors.Is(err, proxmoxsdk.ErrTFARequired):
		return "authentication"
	case errors.Is(err, netboxsdk.ErrForbidden), errors.Is(err, proxmoxsdk.ErrPermission):
		return "permission"
	case errors.Is(err, netboxsdk.ErrNotFound), errors.Is(err, proxmoxsdk.ErrNotFound), errors.Is(err, errPathNotFound):
		return "not_found"
	case errors.Is(err, netboxsdk.ErrRateLimited), errors.As(err, &pveAPI) && pveAPI.StatusCode == http.StatusTooManyRequests:
		return "rate_limit"
	case errors.Is(err, netboxsdk.ErrValidation), errors.Is(err, proxmoxsdk.ErrParameter), errors.Is(err, ErrRefusedEarlier):
		return "validation"
	case errors.As(err, &nbNet), errors.As(err, &opErr), errors.As(err, &off), errors.Is(err, proxmoxsdk.ErrNodeUnreachable):
		return "connection"
	}
	// 5xx answers and anything else: the contract's catch-all
	return "internal"
}

// itemDone emits item_progress for parents (nodes and VMs).
func (r *run) itemDone(k *kind, name string, id int, operation string) {
	if k != kDevice && k != kVM {
		return
	}
	r.emit(proxbox.Event{Name: "item_progress", Data: map[string]any{"event": "item_progress", "phase": r.phase,
		"status": "completed", "message": fmt.Sprintf("Synced %s '%s'", itemType(k), name),
		"item": map[string]any{"name": name, "netbox_id": id, "item_type": itemType(k)}, "operation": operation}})
}

func itemType(k *kind) string {
	if k == kDevice {
		return "node"
	}
	return "virtual_machine"
}

func progress(cur, total int) map[string]any {
	pct := 0.0
	if total > 0 {
		pct = float64(int(float64(cur)*1000/float64(total))) / 10
	}
	return map[string]any{"current": cur, "total": total, "percent": pct}
}

func (r *run) discovery(count int, items []any, meta map[string]any) {
	if len(items) > 200 {
		items = items[:200]
	}
	d := map[string]any{"event": "discovery", "phase": r.phase, "status": "discovered",
		"message": fmt.Sprintf("Discovered %d %s item(s) to synchronize", count, r.phase),
		"count":   count, "items": items, "progress": progress(0, count)}
	if meta != nil {
		d["metadata"] = meta
	}
	r.emit(proxbox.Event{Name: "discovery", Data: d})
}
