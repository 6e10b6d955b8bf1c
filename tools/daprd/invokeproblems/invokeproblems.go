// Package invokeproblems is an HTTP middleware for the gateway's sidecar:
// it tries again the calls daprd could not deliver, and turns daprd's own
// errors on service invocation into RFC 9457 problem details, the format
// every app of the shop answers errors in.
//
// A call is tried again, on the replica the next name resolution picks,
// only when daprd could not connect: to the replica's sidecar, or that
// sidecar to its app ("connect: connection refused"). Then nothing reached
// an app, so even a POST without an Idempotency-Key is safe to repeat. Any
// other failure (a connection that broke during the call, a timeout) may
// have done the work and is answered, never repeated. Dapr's own retries
// cannot tell the two apart, so the gateway's Resiliency turns them off.
//
// When daprd cannot reach any replica of an app (all of them down, or the
// one it picked stopped and its retries ran out), it answers 500 with its
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
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryAfter is the Retry-After, in seconds, of the 503 answer.
const RetryAfter = 1

// maxErrorBody is the largest daprd error body the middleware reads; a
// longer body is passed on as it is.
const maxErrorBody = 16 << 10

// Tries of a call that could not be delivered: the first and up to
// Retries more, RetryPause apart. A request body over maxReplayBody is
// sent once.
const (
	Retries       = 3
	RetryPause    = 100 * time.Millisecond
	maxReplayBody = 4 << 20
)

// Handler wraps next: an invocation daprd could not deliver is tried
// again, and one answered with a daprd error gets a problem document
// instead.
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app, ok := invokedApp(r.URL.Path)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		body, replayable := readBody(r)
		for try := 0; ; try++ {
			if replayable {
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
			rw := &writer{w: w, app: app, header: w.Header().Clone()}
			next.ServeHTTP(rw, r)
			if !replayable || try == Retries || !rw.undelivered() {
				rw.finish()
				return
			}
			select {
			case <-r.Context().Done():
				rw.finish()
				return
			case <-time.After(RetryPause):
			}
		}
	})
}

// readBody reads the whole request body when it is small enough to send
// again; otherwise the request is sent once, its body untouched.
func readBody(r *http.Request) ([]byte, bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true
	}
	if r.ContentLength < 0 || r.ContentLength > maxReplayBody {
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxReplayBody+1))
	_ = r.Body.Close()
	if err != nil || len(b) > maxReplayBody {
		// What was read cannot be put back: send what there is, once.
		r.Body = io.NopCloser(bytes.NewReader(b))
		return nil, false
	}
	return b, true
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
// is complete, then writes it or its problem document. Its headers are its
// own until then, so that a try that is dropped leaves none behind.
type writer struct {
	w       http.ResponseWriter
	app     string
	header  http.Header
	status  int
	holding bool
	body    bytes.Buffer
}

func (rw *writer) Header() http.Header { return rw.header }

// commit writes the status line with this try's headers.
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

// undelivered reports whether daprd answered that it could not connect to
// the app's sidecar, or that sidecar to the app: the call reached no app.
// Nothing has been written to the client then.
func (rw *writer) undelivered() bool {
	e, ok := rw.daprError()
	return ok && rw.status == http.StatusInternalServerError && e.ErrorCode == "ERR_DIRECT_INVOKE" &&
		strings.Contains(e.Message, "connect: connection refused")
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
