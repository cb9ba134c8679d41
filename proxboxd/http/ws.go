package http

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
)

// WSCloseAuth is the close code of a failed in-band authentication.
const WSCloseAuth = 4001

// GET /ws: accept, read {"api_key": …} as the first message (10 s), close
// 4001 on failure (same lockout as HTTP); then "Connected!", "Connected 2!"
// and the command loop of contract §4.
func (s *Server) ws(c echo.Context) error {
	up := websocket.Upgrader{
		ReadBufferSize: 4096, WriteBufferSize: 4096,
		CheckOrigin: func(r *http.Request) bool {
			o := r.Header.Get("Origin")
			return o == "" || s.originAllowed(o)
		},
	}
	conn, err := up.Upgrade(c.Response(), c.Request(), nil)
	if err != nil {
		return nil // Upgrade already answered
	}
	defer conn.Close()
	conn.SetReadLimit(64 << 10)
	closeWith := func(code int, reason string) {
		if len(reason) > 120 {
			reason = reason[:120]
		}
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := conn.ReadMessage()
	var hello struct {
		APIKey string `json:"api_key"`
	}
	if err == nil {
		_ = json.Unmarshal(msg, &hello)
	}
	if f := s.authenticate(c, s.clientIP(c), hello.APIKey); f != nil {
		closeWith(WSCloseAuth, f.detail)
		return nil
	}
	_ = conn.SetReadDeadline(time.Time{})
	send := func(v any) error {
		_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		switch t := v.(type) {
		case string:
			return conn.WriteMessage(websocket.TextMessage, []byte(t))
		default:
			return conn.WriteJSON(t)
		}
	}
	if send("Connected!") != nil || send("Connected 2!") != nil {
		return nil
	}
	ctx, cancel := context.WithCancel(c.Request().Context())
	defer cancel()
	defer context.AfterFunc(s.baseCtx, cancel)()
	for {
		_, m, err := conn.ReadMessage()
		if err != nil {
			return nil
		}
		cmd := strings.TrimSpace(string(m))
		var stages []proxbox.Stage
		var object string
		switch cmd {
		case "Full Update Sync", "Full Update":
			stages, object = proxbox.Stages, "full-update"
		case "Sync Nodes":
			_ = send("Sync Nodes")
			stages, object = []proxbox.Stage{proxbox.StageDevices}, "device"
		case "Sync Virtual Machines":
			stages, object = []proxbox.Stage{proxbox.StageVirtualMachines}, "virtual_machine"
		default:
			_ = send("Invalid command: " + cmd)
			_ = send("Valid commands: 'Sync Nodes', 'Sync Virtual Machines', 'Full Update Sync'")
			continue
		}
		if s.d.Syncer == nil {
			_ = send(map[string]any{"object": object, "end": true, "error": "the sync engine is not available"})
			continue
		}
		for _, st := range stages {
			emit := func(ev proxbox.Event) {
				_ = send(map[string]any{"object": object, "type": "sync", "stage": string(st), "event": ev.Name, "data": ev.Data})
			}
			res, err := s.d.Syncer.RunStage(ctx, proxbox.StageRequest{Stage: st, Params: allParams(proxbox.DefaultStageParams(), st)}, emit)
			p := CompleteFromResult(st, res)
			if err != nil {
				p = CompletePayload{OK: false, Message: err.Error()}
			}
			_ = send(map[string]any{"object": object, "type": "sync", "stage": string(st), "event": "complete", "data": p})
			if ctx.Err() != nil || !p.OK {
				break
			}
		}
		if ctx.Err() != nil {
			closeWith(websocket.CloseGoingAway, "server shutdown")
			return nil
		}
		_ = send(map[string]any{"object": object, "end": true})
	}
}
