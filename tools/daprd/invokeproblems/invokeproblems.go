// Package invokeproblems is an HTTP middleware for the gateway's sidecar:
// it turns daprd's own errors on service invocation into RFC 9457 problem
// details, the format every app of the shop answers errors in.
//
// When daprd cannot reach the app (no replica up, or the one it picked
// stopped and its retries ran out), it answers 500 with its
// own JSON body {"errorCode":"ERR_DIRECT_INVOKE","message":"failed to
// invoke, id: usersvc, err: ..."}, whose message names internal addresses.
// For a client that is a temporary failure of the shop, not a bug: this
// middleware answers it 503 with Retry-After and a problem document that
// names the app and nothing internal. Other daprd errors on an invocation
// (403 of an access policy, say) keep their status and become problem
// documents too.
//
// Answers of the apps themselves pass untouched: the apps answer errors as
// application/problem+json, never with daprd's JSON error shape.
package invokeproblems

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// RetryAfter is the Retry-After, in seconds, of the 503 answer.
const RetryAfter = 1

// maxErrorBody is the largest daprd error body the middleware reads; a
// longer body is passed on as it is.
const maxErrorBody = 16 << 10

// Handler wraps next: an invocation answered with a daprd error gets a
// problem document instead.
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app, ok := invokedApp(r.URL.Path)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		rw := &writer{w: w, app: app, header: w.Header().Clone()}
		next.ServeHTTP(rw, r)
		rw.finish()
	})
}

// invokedApp is the app id of an invocation path
// /v1.0/invoke/<app>/method/...
func invokedApp(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/v1.0/invoke/")
	if !ok {
		return "", false
	}
	app, _, ok := strings.Cut(rest, "/method/")
	if !ok || app == "" {
		return "", false
	}
	return app, true
}

// writer holds back a response that may be a daprd error until its body
// is complete, then writes it or its problem document. It keeps its own
// headers until it writes, so that a problem document goes out with its
// own Content-Type and Content-Length, not those daprd set.
type writer struct {
	w       http.ResponseWriter
	app     string
	header  http.Header
	status  int
	holding bool
	body    bytes.Buffer
}

func (rw *writer) Header() http.Header { return rw.header }

// commit writes the status line with the writer's headers.
func (rw *writer) commit(status int) {
	h := rw.w.Header()
	clear(h)
	for k, v := range rw.header {
		h[k] = v
	}
	rw.w.WriteHeader(status)
}

func (rw *writer) WriteHeader(status int) {
	if rw.status != 0 {
		return
	}
	rw.status = status
	ct := rw.header.Get("Content-Type")
	if status >= 400 && (ct == "" || strings.HasPrefix(ct, "application/json")) {
		rw.holding = true
		return
	}
	rw.commit(status)
}

func (rw *writer) Write(p []byte) (int, error) {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	if !rw.holding {
		return rw.w.Write(p)
	}
	if rw.body.Len()+len(p) > maxErrorBody {
		rw.release()
		return rw.w.Write(p)
	}
	return rw.body.Write(p)
}

// release writes what was held back, unchanged.
func (rw *writer) release() {
	rw.holding = false
	rw.commit(rw.status)
	_, _ = rw.w.Write(rw.body.Bytes())
	rw.body.Reset()
}

// daprError is the body of daprd's own error answers.
type daprError struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

// problem is an RFC 9457 problem document.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// daprError is the held-back answer as a daprd error, if it is one.
func (rw *writer) daprError() (daprError, bool) {
	var e daprError
	if !rw.holding || json.Unmarshal(rw.body.Bytes(), &e) != nil || e.ErrorCode == "" {
		return daprError{}, false
	}
	return e, true
}

func (rw *writer) finish() {
	if rw.status == 0 {
		rw.commit(http.StatusOK) // the handler wrote nothing
		return
	}
	if !rw.holding {
		return
	}
	e, ok := rw.daprError()
	if !ok {
		rw.release()
		return
	}
	status, detail := rw.status, "the "+rw.app+" service refused the call ("+e.ErrorCode+")"
	if status == http.StatusInternalServerError {
		status, detail = http.StatusServiceUnavailable, "the "+rw.app+" service cannot be reached now; try again"
		rw.header.Set("Retry-After", strconv.Itoa(RetryAfter))
	}
	b, _ := json.Marshal(problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail})
	rw.header.Set("Content-Type", "application/problem+json")
	rw.header.Set("Content-Length", strconv.Itoa(len(b)))
	rw.header.Set("X-Content-Type-Options", "nosniff")
	rw.holding = false
	rw.commit(status)
	_, _ = rw.w.Write(b)
}

// Flush sends what was written so far, unless it is held back.
func (rw *writer) Flush() {
	if rw.holding {
		return
	}
	if f, ok := rw.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hands over the connection of a protocol upgrade.
func (rw *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := rw.w.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("invokeproblems: the connection cannot be hijacked")
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rw *writer) Unwrap() http.ResponseWriter { return rw.w }
