package pvemock

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/proxbox-go/proxbox/proxmoxsdk"
)

// addTaskLocked inserts t (newest first per node). Caller holds m.mu.
func (m *Mock) addTaskLocked(t *task) {
	list := m.tasks[t.node]
	i := 0
	for i < len(list) && list[i].start >= t.start {
		i++
	}
	list = append(list, nil)
	copy(list[i+1:], list[i:])
	list[i] = t
	m.tasks[t.node] = list
	m.taskByID[t.upid] = t
}

// newTaskLocked creates a task started "now" (scenario epoch plus the
// task counter so UPIDs stay deterministic). polls is how many status
// polls it stays running. Caller holds m.mu.
func (m *Mock) newTaskLocked(node, typ, id, exit string, polls int, log ...string) string {
	m.pidNext++
	start := m.sc.Epoch.Unix() + (m.pidNext - 400000)
	t := &task{node: node, typ: typ, id: id, user: "root@pam", exit: exit, pid: m.pidNext, pstart: 5000000 + m.pidNext, start: start, end: start + 3, running: polls}
	t.upid = upid(node, t.pid, t.pstart, start, typ, id, t.user)
	t.log = append([]string{"starting " + typ + " " + id}, log...)
	if exit == "OK" {
		t.log = append(t.log, "TASK OK")
	} else {
		t.log = append(t.log, "TASK ERROR: "+exit)
	}
	m.addTaskLocked(t)
	m.version++
	return t.upid
}

// AddTask adds a finished-after-polls task (tests of WaitTask) and returns
// its UPID. exit "OK" succeeds; anything else fails with that status.
func (m *Mock) AddTask(node, typ string, vmid int, exit string, polls int, log ...string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.newTaskLocked(node, typ, strconv.Itoa(vmid), exit, polls, log...)
}

func taskEntry(t *task) map[string]any {
	e := map[string]any{"upid": t.upid, "node": t.node, "pid": t.pid, "pstart": t.pstart, "starttime": t.start, "type": t.typ, "id": t.id, "user": t.user}
	if t.running <= 0 {
		e["endtime"], e["status"] = t.end, t.exit
	}
	return e
}

func (m *Mock) taskList(c *call) *proxmoxsdk.Response {
	start, _ := strconv.Atoi(c.param("start"))
	limit := 50
	if l, err := strconv.Atoi(c.param("limit")); err == nil && l > 0 {
		limit = l
	}
	vmid, typ, src := c.param("vmid"), c.param("typefilter"), c.param("source")
	errorsOnly := c.param("errors") == "1"
	out := []map[string]any{}
	skipped := 0
	for _, t := range m.tasks[c.str("node")] {
		if vmid != "" && t.id != vmid || typ != "" && t.typ != typ {
			continue
		}
		if src == "active" && t.running <= 0 || (src == "" || src == "archive") && t.running > 0 {
			continue
		}
		if errorsOnly && (t.exit == "OK" || t.running > 0) {
			continue
		}
		if skipped < start {
			skipped++
			continue
		}
		if len(out) >= limit {
			break
		}
		out = append(out, taskEntry(t))
	}
	return okResp(out)
}

func (m *Mock) task(c *call) (*task, *proxmoxsdk.Response) {
	t := m.taskByID[c.str("upid")]
	if t == nil || t.node != c.str("node") {
		return nil, errResp(http.StatusInternalServerError, "no such task", nil)
	}
	return t, nil
}

func (m *Mock) taskStatus(c *call) *proxmoxsdk.Response {
	t, resp := m.task(c)
	if resp != nil {
		return resp
	}
	e := taskEntry(t)
	delete(e, "status")
	if t.running > 0 {
		t.running--
		if t.running == 0 {
			m.version++
		}
		e["status"] = "running"
	} else {
		e["status"], e["exitstatus"] = "stopped", t.exit
	}
	return okResp(e)
}

func (m *Mock) taskLog(c *call) *proxmoxsdk.Response {
	t, resp := m.task(c)
	if resp != nil {
		return resp
	}
	start, _ := strconv.Atoi(c.param("start"))
	limit := 50
	if l, err := strconv.Atoi(c.param("limit")); err == nil && l > 0 {
		limit = l
	}
	out := []map[string]any{}
	for i, l := range t.log {
		if i < start || len(out) >= limit {
			continue
		}
		out = append(out, map[string]any{"n": i + 1, "t": strings.TrimSpace(l)})
	}
	return okResp(out)
}
