package graph

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"testing"
)

// blockingGraph is a fake Graph that holds every request until the client gives up on it,
// and reports each arrival.
func blockingGraph(t *testing.T, mutate func(*Config)) (*fakeGraph, *Client, <-chan int) {
	t.Helper()
	arrived := make(chan int, 100)
	fg, c := newFakeGraph(t, func(n int, r *http.Request, _ []byte) (int, http.Header, string) {
		arrived <- n
		<-r.Context().Done()
		return http.StatusGatewayTimeout, nil, ""
	}, mutate)
	return fg, c, arrived
}

// TestCancelInFlightIsAmbiguous: a request canceled while Graph holds it may have taken
// effect, and the error says so; one canceled before it was sent did not.
func TestCancelInFlightIsAmbiguous(t *testing.T) {
	_, c, arrived := blockingGraph(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-arrived; cancel() }()
	_, err := c.RetireDevice(ctx, "d1")
	if !errors.Is(err, context.Canceled) || !IsAmbiguous(err) || IsPermanent(err) {
		t.Errorf("canceled in flight: %v (ambiguous %v, permanent %v), want canceled, ambiguous, "+
			"not permanent", err, IsAmbiguous(err), IsPermanent(err))
	}

	_, err = c.RetireDevice(ctx, "d2") // ctx is already done: nothing is sent
	if !errors.Is(err, context.Canceled) || IsAmbiguous(err) {
		t.Errorf("canceled before sending: %v (ambiguous %v), want canceled, not ambiguous", err,
			IsAmbiguous(err))
	}
}

// TestCancelBatchInFlightIsAmbiguous cancels a $batch run while Graph holds its first
// envelope: the items of every envelope that arrived are ambiguous, the items the client
// never sent are not, and every item has a result that wraps context.Canceled. (An envelope
// the client had started to send but Graph had not yet read may go either way: the client
// cannot tell, so ambiguous is the safe answer.)
func TestCancelBatchInFlightIsAmbiguous(t *testing.T) {
	// 20 requests in flight: two envelopes at a time, so the third is never sent.
	fg, c, arrived := blockingGraph(t, func(cfg *Config) { cfg.Limits = Limits{MaxInFlight: 20} })
	var items []BatchItem
	for i := range 45 {
		items = append(items, BatchItem{Request: RetireDeviceRequest("d" + strconv.Itoa(i))})
	}
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-arrived; cancel() }()
	results := c.Batch(ctx, items)

	sent := map[int]bool{}
	for _, r := range fg.requests() {
		var body struct {
			Requests []struct{ ID string } `json:"requests"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("envelope body: %v", err)
		}
		for _, it := range body.Requests {
			n, _ := strconv.Atoi(it.ID)
			sent[n] = true
		}
	}
	// Envelopes take the items in order, 20 at a time.
	attempted := MaxBatchItems * int(c.Stats().Requests)
	if len(sent) == 0 || attempted >= len(items) {
		t.Fatalf("%d items arrived, %d were attempted of %d; the test needs some never sent",
			len(sent), attempted, len(items))
	}
	for i, r := range results {
		if !errors.Is(r.Err, context.Canceled) {
			t.Errorf("item %d: %v, want context.Canceled", i, r.Err)
		}
		switch {
		case sent[i] && !IsAmbiguous(r.Err):
			t.Errorf("item %d reached Graph, but its error is not ambiguous: %v", i, r.Err)
		case i >= attempted && IsAmbiguous(r.Err):
			t.Errorf("item %d was never sent, but its error is ambiguous: %v", i, r.Err)
		}
	}
}
