package cli

import (
	"fmt"
	"io"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/cutoverhq/cutover/internal/inventory"
	"github.com/cutoverhq/cutover/internal/store"
)

// syncProgress shows a sync's progress on standard error and waits for the display to
// finish drawing.
type syncProgress interface {
	inventory.Progress
	Wait()
}

// newSyncProgress draws one live line per tenant and resource on a terminal, and plain
// lines otherwise.
func newSyncProgress(s Streams, roles []string, resources []store.Resource) syncProgress {
	if s.IsTerminal {
		return newBarProgress(s.Err, roles, resources)
	}
	return &lineProgress{w: s.Err, pages: map[string]int{}, items: map[string]int{}}
}

// linePagesEvery is how many pages a listing reads between two plain progress lines.
const linePagesEvery = 50

// lineProgress writes a line when a listing finishes, and one every linePagesEvery pages
// of a long listing, so that a log shows the sync is moving without flooding it.
type lineProgress struct {
	mu    sync.Mutex
	w     io.Writer
	pages map[string]int
	items map[string]int
}

func (p *lineProgress) Started(string, store.Resource) {}

func (p *lineProgress) Advanced(role string, res store.Resource, items int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := role + " " + resourceName(res)
	p.pages[key]++
	p.items[key] += items
	if p.pages[key]%linePagesEvery == 0 {
		fmt.Fprintf(p.w, "%s: %d items in %d pages\n", key, p.items[key], p.pages[key])
	}
}

func (p *lineProgress) Finished(r inventory.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := r.Tenant + " " + resourceName(r.Resource)
	if r.Err != nil {
		fmt.Fprintf(p.w, "%s: stopped after %d items\n", key, r.Items)
		return
	}
	fmt.Fprintf(p.w, "%s: %d rows (%s, %d items read, %.1f s)\n", key, r.Count, r.Mode, r.Items,
		r.Duration.Seconds())
}

func (p *lineProgress) Wait() {}

// barProgress draws a line per listing with a spinner, the items read so far and the
// elapsed time; a finished line shows its row count and mode. The page count of a listing
// is not known in advance (Graph gives no total without an extra advanced query), so the
// lines count up rather than fill.
type barProgress struct {
	p    *mpb.Progress
	bars map[string]*mpb.Bar
	mu   sync.Mutex
	done map[string]string
}

func newBarProgress(w io.Writer, roles []string, resources []store.Resource) *barProgress {
	// Streams.IsTerminal has decided already; auto refresh makes mpb draw even when it
	// cannot tell for itself (a pseudo-terminal it does not recognise, tests).
	bp := &barProgress{p: mpb.New(mpb.WithOutput(w), mpb.WithAutoRefresh()),
		bars: map[string]*mpb.Bar{}, done: map[string]string{}}
	for _, role := range roles {
		for _, res := range resources {
			key := role + " " + resourceName(res)
			status := decor.Any(func(decor.Statistics) string {
				bp.mu.Lock()
				defer bp.mu.Unlock()
				return bp.done[key]
			})
			bp.bars[key] = bp.p.New(0, mpb.SpinnerStyle(), mpb.BarWidth(3),
				mpb.PrependDecorators(decor.Name(key, decor.WCSyncSpaceR),
					decor.CurrentNoUnit("%d items", decor.WCSyncSpace)),
				mpb.AppendDecorators(decor.Elapsed(decor.ET_STYLE_GO, decor.WCSyncSpace),
					status),
				mpb.BarFillerClearOnComplete())
		}
	}
	return bp
}

func (bp *barProgress) Started(string, store.Resource) {}

func (bp *barProgress) Advanced(role string, res store.Resource, items int) {
	if b := bp.bars[role+" "+resourceName(res)]; b != nil {
		b.IncrBy(items)
	}
}

func (bp *barProgress) Finished(r inventory.Result) {
	key := r.Tenant + " " + resourceName(r.Resource)
	b := bp.bars[key]
	if b == nil {
		return
	}
	bp.mu.Lock()
	if r.Err != nil {
		bp.done[key] = "  failed"
	} else {
		bp.done[key] = fmt.Sprintf("  %d rows, %s", r.Count, r.Mode)
	}
	bp.mu.Unlock()
	if r.Err != nil {
		b.Abort(false)
		return
	}
	b.SetTotal(-1, true)
}

func (bp *barProgress) Wait() { bp.p.Wait() }
