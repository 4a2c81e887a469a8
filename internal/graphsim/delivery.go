package graphsim

import (
	"bytes"
	"net/http"
	"strconv"
)

// heldResponse buffers a response written under s.mu so that it can be delayed, cut short
// or dropped after the lock is released.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newHeldResponse() *heldResponse { return &heldResponse{header: http.Header{}} }

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

func (h *heldResponse) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(b)
}

// reset forgets everything written so far.
func (h *heldResponse) reset() {
	h.header = http.Header{}
	h.status = 0
	h.body.Reset()
}

// flush writes the held response to w.
func (h *heldResponse) flush(w http.ResponseWriter) {
	if h.status == 0 {
		return
	}
	dst := w.Header()
	for k, v := range h.header {
		dst[k] = v
	}
	w.WriteHeader(h.status)
	_, _ = w.Write(h.body.Bytes())
}

// cut writes the headers and half of the body, announcing the full length, then drops the
// connection: the client reads a truncated body. A response without a body is dropped whole.
func (h *heldResponse) cut(w http.ResponseWriter) {
	if h.body.Len() == 0 {
		abort(w, true)
		return
	}
	dst := w.Header()
	for k, v := range h.header {
		dst[k] = v
	}
	body := h.body.Bytes()
	dst.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(max(h.status, http.StatusOK))
	_, _ = w.Write(body[:len(body)/2])
	_ = http.NewResponseController(w).Flush()
	abort(w, false)
}

// deliver sends a call's response after s.mu is released: it waits the call's latency, then
// writes the held response or carries out a connection fault. $batch items are answered by
// their batch, so for them it only gives back what they held.
func (s *Server) deliver(c *call) {
	a := c.adm
	if a == nil {
		return
	}
	defer s.sm.release(a)
	if a.held == nil {
		return
	}
	if a.fault == faultReset || a.fault == faultHang {
		c.entry.Status = 0 // the client never sees a status
	}
	if a.fault == faultHang {
		s.hang(c.r)
		abort(a.out, true)
		return
	}
	if !s.sleep(c.r, a.latency) {
		return
	}
	switch a.fault {
	case faultReset:
		abort(a.out, true)
	case faultCut:
		a.held.cut(a.out)
	default:
		a.held.flush(a.out)
	}
}
