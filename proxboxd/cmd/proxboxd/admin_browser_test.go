package main

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	proxbox "github.com/proxbox-go/proxbox/proxboxd"
	"github.com/proxbox-go/proxbox/proxboxd/demo"
	pbhttp "github.com/proxbox-go/proxbox/proxboxd/http"
	"github.com/proxbox-go/proxbox/proxboxd/sync"
)

// adminScreenshot, when set, is where TestAdminBrowser writes a PNG of the
// page at its end (make admin-screenshot: docs/admin.png).
var adminScreenshot = flag.String("admin-screenshot", "", "write a PNG of /admin at the end of TestAdminBrowser to this file")

// chromiumPath is the browser TestAdminBrowser drives (CI installs the
// Debian package: make chromium).
const chromiumPath = "/usr/bin/chromium"

// TestAdminBrowser opens /admin in headless Chromium before a demo sync
// starts (pvemock + netboxtest, the real engine, the plugin's 12 stage
// streams) and reads the rendered DOM as the sync goes: every stage row
// reaches `complete` through the page's live streams (the page is never
// reloaded), with its frames counted and the created objects shown; then
// the charts of the last runs, the plan of a dry run after the mock drifted
// (old -> new per object, grouped by type), the errors of the last run
// naming their objects, the endpoints' health and the live log.
func TestAdminBrowser(t *testing.T) {
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("PROXBOX_REQUIRE_BROWSER") != "" {
			require.FailNowf(t, "browser missing", "%s not installed and PROXBOX_REQUIRE_BROWSER is set (CI): make chromium", chromiumPath)
		}
		t.Skipf("%s not installed (make chromium installs it)", chromiumPath)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	logs := pbhttp.NewLogBuffer(2000)
	log := slog.New(logs.Handler(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})))
	env, err := demo.Start(ctx, demo.Options{Logger: log, Logs: logs,
		NewEngine: func(c proxbox.Connector) proxbox.Syncer { return newEngine(c, log, sync.DefaultJobWindow, nil, nil) }})
	require.NoError(t, err)
	defer env.Close()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	poll := func(what, expr string) {
		t.Helper()
		browse(t, bctx, what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(45*time.Second)))
	}

	// the page is up, its live stream connected, no run yet (the first
	// action starts the browser: no timeout on it)
	_, err = chromedp.Run(bctx, chromedp.Navigate(env.BaseURL+"/admin"))
	require.NoError(t, err, "open /admin")
	poll("live badge", `document.querySelector('#live.on') !== null && document.querySelectorAll('#stages tr[data-stage]').length === 13`)
	idle := browse(t, bctx, "idle rows", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#stages tr[data-stage] td.status')].map(e => e.textContent)`))
	assert.Equal(t, strings.Split(strings.Repeat("idle,", 13), ",")[:13], idle, "no run before the sync")

	// a full sync through the 12 stage streams, the page following it live
	synced := make(chan *demo.SyncRun, 1)
	go func() { synced <- env.FullSync(ctx) }()
	poll("every stage complete", `[...document.querySelectorAll('#stages tr[data-stage]:not(.full-update) td.status')].filter(e => e.textContent === 'complete').length === 12`)
	res := <-synced
	require.True(t, res.OK, "the sync: %+v", res.Stages)

	type row struct {
		Stage, Status, Created, CreatedByType, Unchanged, Frames, Run string
	}
	rows := browse(t, bctx, "read the board", chromedp.Evaluate[[]row](`[...document.querySelectorAll('#stages tr[data-stage]')].map(tr => ({
		Stage: tr.dataset.stage, Status: tr.querySelector('td.status').textContent, Created: tr.querySelector('td.created').textContent,
		CreatedByType: tr.querySelector('td.created').title,
		Unchanged: tr.querySelector('td.unchanged').textContent, Frames: tr.dataset.frames || '', Run: tr.dataset.run || ''}))`))
	require.Len(t, rows, 13)
	byStage := map[string]row{}
	for _, r := range rows[:12] {
		assert.Equal(t, "complete", r.Status, "%s", r.Stage)
		frames, _ := strconv.Atoi(r.Frames)
		assert.Positive(t, frames, "%s: no live frame reached the page", r.Stage)
		byStage[r.Stage] = r
	}
	for i, st := range proxbox.Stages {
		assert.Equal(t, string(st), rows[i].Stage, "row order")
	}
	// each stage's objects once (the devices stage also creates the tags,
	// custom fields, site, roles... its nodes need)
	created, _ := strconv.Atoi(byStage["devices"].Created)
	assert.Greater(t, created, 3, "devices stage created")
	assert.Contains(t, byStage["devices"].CreatedByType, "dcim.device 3", "per type, on hover")
	assert.Contains(t, byStage["virtual-machines"].CreatedByType, "virtualization.virtualmachine 100")
	assert.Equal(t, "idle", rows[12].Status, "no full update ran")

	// the last runs as charts, one per stage that ran
	poll("charts", `document.querySelectorAll('#history .chart svg').length === 12`)
	bars := browse(t, bctx, "chart bars", chromedp.Evaluate[int](`document.querySelectorAll('#history .chart[data-stage="devices"] rect.cnt-created').length`))
	assert.Equal(t, 1, bars, "one run of devices, one created bar")

	// the endpoints and their health
	poll("endpoints", `document.querySelectorAll('#endpoints tr[data-kind] td.health-ok').length === 2`)

	// a dry run after the mock drifted: the plan, grouped by type, old -> new
	did, err := env.Drift()
	require.NoError(t, err)
	t.Log("drift: ", strings.Join(did, "; "))
	out, err := env.DryRun(ctx)
	require.NoError(t, err)
	require.True(t, out.Complete != nil && out.Complete.OK, "dry run: %+v", out.Detail)
	poll("plan", `document.querySelector('#plan details[data-type="virtualization.virtualmachine"]') !== null`)
	vmPlan := browse(t, bctx, "read the plan", chromedp.TextContent(chromedp.CSS(`#plan details[data-type="virtualization.virtualmachine"]`)))
	assert.Contains(t, vmPlan, "-renamed", "the renamed guest")
	assert.Contains(t, vmPlan, "→")
	assert.Contains(t, vmPlan, "drift-ct", "the new container")
	planTypes := browse(t, bctx, "plan groups", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#plan details')].map(d => d.dataset.type)`))
	assert.IsIncreasing(t, planTypes, "grouped by type, in order")

	// the errors of the last run, each naming its object: NetBox refuses the
	// new container (the bulk create and its item retry)
	env.NetBox.FailNext("POST", "/api/virtualization/virtual-machines/", 400, 2, "")
	_, err = env.RunStage(ctx, proxbox.StageVirtualMachines)
	require.NoError(t, err)
	poll("errors", `[...document.querySelectorAll('#errors tr.error td.object')].some(td => td.textContent.includes('drift-ct'))`)
	errRow := browse(t, bctx, "read the error", chromedp.Evaluate[[]string](`[...document.querySelector('#errors tr.error').children].map(td => td.textContent)`))
	require.Len(t, errRow, 4)
	assert.Equal(t, "virtual-machines", errRow[0])
	assert.Equal(t, "virtualization.virtualmachine", errRow[1])
	assert.NotEmpty(t, errRow[3], "the error's detail")
	vmStatus := browse(t, bctx, "the failed items make the stage partial", chromedp.TextContent(chromedp.CSS(`#stages tr[data-stage="virtual-machines"] td.status`)))
	assert.Equal(t, "completepartial", vmStatus)

	// the live log
	logLines := browse(t, bctx, "log", chromedp.Evaluate[int](`document.querySelectorAll('#log div').length`))
	assert.Positive(t, logLines)

	if *adminScreenshot != "" {
		browse(t, bctx, "viewport", chromedp.EmulateViewport(1280, 900))
		shot := browse(t, bctx, "screenshot", chromedp.FullScreenshot(100))
		p := *adminScreenshot
		if !filepath.IsAbs(p) {
			wd, _ := os.Getwd()
			p = filepath.Join(wd, p)
		}
		img, err := png.Decode(bytes.NewReader(shot))
		require.NoError(t, err)
		var small bytes.Buffer
		require.NoError(t, (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&small, paletted(img)))
		require.NoError(t, os.WriteFile(p, small.Bytes(), 0o644))
		t.Logf("screenshot: %s (%dx%d, %d bytes)", p, img.Bounds().Dx(), img.Bounds().Dy(), small.Len())
	}
}

// browse runs one action on the page, for at most a minute.
func browse[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err, what)
	return v
}

// paletted maps a screenshot onto its 256 most used colours (counted with
// 5 bits a channel, so the shades of antialiased text share one; each is
// the mean of its shades): a page of flat colours and text keeps its look
// at a third of the PNG's size.
func paletted(img image.Image) *image.Paletted {
	type bucket struct{ r, g, b, n int }
	buckets := map[int]*bucket{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			k := int(r>>11)<<10 | int(g>>11)<<5 | int(b>>11)
			bk := buckets[k]
			if bk == nil {
				bk = &bucket{}
				buckets[k] = bk
			}
			bk.r, bk.g, bk.b, bk.n = bk.r+int(r>>8), bk.g+int(g>>8), bk.b+int(b>>8), bk.n+1
		}
	}
	all := make([]*bucket, 0, len(buckets))
	for _, bk := range buckets {
		all = append(all, bk)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n })
	pal := make(color.Palette, 0, 256)
	for _, bk := range all[:min(len(all), 256)] {
		pal = append(pal, color.RGBA{uint8(bk.r / bk.n), uint8(bk.g / bk.n), uint8(bk.b / bk.n), 255})
	}
	p := image.NewPaletted(bounds, pal)
	draw.Draw(p, bounds, img, bounds.Min, draw.Src)
	return p
}
