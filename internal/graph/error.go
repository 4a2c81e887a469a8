package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Error is a failed Graph request: an error response, a transport failure or a refused token.
// Callers branch on Status and Code (never on Message) or use the helpers IsNotFound,
// IsThrottled, IsPermanent and IsAmbiguous. Find it with errors.As.
type Error struct {
	// Method and Path name the request (Path without the query).
	Method, Path string
	// Status is the HTTP status, or 0 when no response arrived.
	Status int
	// Code is error.code of the body, for example Request_ResourceNotFound; InnerCode is the
	// innermost innerError code, when the body nests one.
	Code, InnerCode string
	// Message is error.message, for people.
	Message string
	// RequestID and ClientRequestID identify the attempt for Microsoft support; Date is the
	// response's Date header. Log all three for every write.
	RequestID, ClientRequestID string
	Date                       time.Time
	// RetryAfter is the server's Retry-After, parsed and capped; zero when absent.
	RetryAfter time.Duration
	// ThrottleScope is x-ms-throttle-scope of a 429.
	ThrottleScope string
	// Transient means a later attempt may succeed (throttling, server errors, transport
	// failures); the client has already retried it within its budget.
	Transient bool
	// Ambiguous means the request may have taken effect although no success was seen (a
	// connection reset or timeout after sending, a 500 or 504): read state before resending a
	// non-idempotent request.
	Ambiguous bool
	// Attempts is how many times the request was sent.
	Attempts int
	// Err is the underlying transport or credential error, if any.
	Err error

	tokenGen uint64 // which token a 401 refused
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	switch {
	case e.Status != 0:
		fmt.Fprintf(&b, "%d", e.Status)
		if e.Code != "" {
			b.WriteString(" " + e.Code)
		}
		if e.Message != "" {
			b.WriteString(": " + e.Message)
		}
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString(e.Code + ": " + e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request-id %s)", e.RequestID)
	}
	return b.String()
}

// Unwrap returns the underlying transport or credential error.
func (e *Error) Unwrap() error { return e.Err }

// IsNotFound reports whether err is a Graph 404.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsThrottled reports whether err is a Graph 429 (after the client's own retries ran out).
func IsThrottled(err error) bool { return hasStatus(err, http.StatusTooManyRequests) }

// IsPermanent reports whether err is a Graph error that no retry will fix (400, 403, a
// missing object, a refused credential). Context cancellation is not permanent.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && !e.Transient
}

// IsAmbiguous reports whether the request may have taken effect although it failed.
func IsAmbiguous(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Ambiguous
}

func hasStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// errorBody is Graph's error response.
type errorBody struct {
	Error struct {
		Code       string          `json:"code"`
		Message    string          `json:"message"`
		InnerError json.RawMessage `json:"innerError"`
	} `json:"error"`
}

type innerError struct {
	Code            string          `json:"code"`
	RequestID       string          `json:"request-id"`
	ClientRequestID string          `json:"client-request-id"`
	InnerError      json.RawMessage `json:"innerError"`
}

// responseError builds the Error of a non-2xx response from its headers and body. Ids come
// from the headers, or from innerError when the headers lack them.
func responseError(status int, h http.Header, body []byte) *Error {
	e := &Error{Status: status, RequestID: h.Get("request-id"),
		ClientRequestID: h.Get("client-request-id"), ThrottleScope: h.Get("x-ms-throttle-scope")}
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		e.Date = d
	}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && eb.Error.Code != "" {
		e.Code, e.Message = eb.Error.Code, eb.Error.Message
		raw := eb.Error.InnerError
		for depth := 0; len(raw) > 0 && depth < 8; depth++ {
			var in innerError
			if json.Unmarshal(raw, &in) != nil {
				break
			}
			if in.Code != "" {
				e.InnerCode = in.Code
			}
			if e.RequestID == "" {
				e.RequestID = in.RequestID
			}
			if e.ClientRequestID == "" {
				e.ClientRequestID = in.ClientRequestID
			}
			raw = in.InnerError
		}
	} else {
		e.Code = http.StatusText(status)
		e.Message = strings.TrimSpace(string(truncate(body, 200)))
	}
	classify(e)
	return e
}

// canceledError is the error of a request (or $batch item) given up because its context
// ended; it wraps the context's error so that errors.Is(err, context.Canceled) holds. When an
// attempt had reached Graph without an answer (cut off by the cancellation itself, or an
// earlier reset), the request may have taken effect: the error is then an ambiguous *Error
// with code canceledInFlight, so that a caller resuming the work reads state before
// resending. It counts as transient: cancellation says nothing about a later attempt.
func canceledError(method, path string, ctxErr error, mayHaveActed bool, attempts int) error {
	if !mayHaveActed {
		return fmt.Errorf("%s %s: %w", method, path, ctxErr)
	}
	return &Error{Method: method, Path: path, Code: "canceledInFlight",
		Message: "canceled while the request was in flight: it may have taken effect",
		Err:     ctxErr, Transient: true, Ambiguous: true, Attempts: attempts}
}

// classify decides whether a status is worth another attempt (GRAPH.md section 11), and
// whether it leaves the outcome unknown.
func classify(e *Error) {
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusPreconditionFailed,
		http.StatusLocked, http.StatusFailedDependency:
		e.Transient = true
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout,
		509: // bandwidth exceeded
		e.Transient, e.Ambiguous = true, true
	}
}

// transportError wraps a failure that produced no response. Timeouts and resets are
// transient and ambiguous; a refused connection never reached the server.
func transportError(err error) *Error {
	e := &Error{Code: "transportError", Err: err, Transient: true, Ambiguous: true}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		e.Ambiguous = false
	}
	return e
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
