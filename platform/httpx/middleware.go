package httpx

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

type loggerKey struct{}

// Logger returns the request-scoped logger that Log put in ctx, or a logger
// that discards everything when there is none.
func Logger(ctx context.Context) *logrus.Entry {
	if l, ok := ctx.Value(loggerKey{}).(*logrus.Entry); ok {
		return l
	}
	discard := logrus.New()
	discard.Out = nopWriter{}
	return logrus.NewEntry(discard)
}

// WithLogger returns ctx carrying l; event handlers use it for work that does
// not come through Log.
func WithLogger(ctx context.Context, l *logrus.Entry) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// TraceID returns the trace id of a W3C traceparent header, or "".
func TraceID(traceparent string) string {
	parts := strings.Split(traceparent, "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		return ""
	}
	return parts[1]
}

// Log writes one JSON line per request (method, path, status, duration and
// trace id) and puts a request-scoped logger into the request context. It
// also turns a panic into a 500 problem, logged with its stack.
func Log(base *logrus.Entry) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			l := base
			if id := TraceID(r.Header.Get("traceparent")); id != "" {
				l = l.WithField("trace_id", id)
			}
			rec := &StatusRecorder{ResponseWriter: w}
			defer func() {
				if v := recover(); v != nil {
					l.WithField("panic", fmt.Sprint(v)).WithField("stack", string(debug.Stack())).Error("handler panicked")
					if rec.status == 0 {
						WriteProblem(rec, NewProblem(http.StatusInternalServerError, "internal error"))
					}
				}
				if rec.status == 0 {
					rec.status = http.StatusOK
				}
				l.WithFields(logrus.Fields{
					"method":      r.Method,
					"path":        r.URL.Path,
					"status":      rec.status,
					"duration_ms": float64(time.Since(start).Microseconds()) / 1000,
				}).Info("request")
			}()
			next.ServeHTTP(rec, r.WithContext(WithLogger(r.Context(), l)))
		})
	}
}

// StatusRecorder is a ResponseWriter that remembers the status written
// (Status: 0 until the handler writes).
type StatusRecorder struct {
	http.ResponseWriter
	status int
}

// Status is the status the handler wrote, 0 if it wrote nothing yet.
func (s *StatusRecorder) Status() int { return s.status }

func (s *StatusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *StatusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// RequireAppToken rejects requests that do not carry the sidecar's
// dapr-api-token header when token is set (APP_API_TOKEN). Health probes come
// from the kubelet, not the sidecar, so they pass without it.
func RequireAppToken(token string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if token == "" {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" ||
				subtle.ConstantTimeCompare([]byte(r.Header.Get("dapr-api-token")), []byte(token)) == 1 {
				next.ServeHTTP(w, r)
				return
			}
			WriteProblem(w, NewProblem(http.StatusUnauthorized, "missing or wrong dapr-api-token"))
		})
	}
}

// invocationHeaders are the headers in which a sidecar names the caller and
// callee of a service invocation (the gateway, another app). The sidecar
// sets them on every invocation it forwards to the app, next to whatever
// the caller sent under those names; its own calls to the app (event
// deliveries, bindings, GET /dapr/subscribe) carry none.
var invocationHeaders = []string{"dapr-caller-app-id", "dapr-callee-app-id", "dapr-caller-namespace"}

// SidecarOnly guards a route that only the app's own sidecar calls: event
// and dead-letter deliveries, input bindings, /dapr/*. The app token alone
// does not tell these apart from service invocations, which the sidecar
// forwards with the same token: a request that came by service invocation
// gets a 404 problem, as if the route did not exist.
func SidecarOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range invocationHeaders {
			// Present at all, even empty: a caller may send an empty value
			// of its own ahead of the sidecar's.
			if values := r.Header.Values(h); len(values) > 0 {
				Logger(r.Context()).WithField(h, values).Warn("sidecar-only route invoked by service invocation; refused")
				WriteProblem(w, NewProblem(http.StatusNotFound, "no such resource: "+r.URL.Path))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
