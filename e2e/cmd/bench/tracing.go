package main

import (
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"shop/tools/trace/otlp"
)

// startSpanSink serves an OTLP/HTTP receiver on a free loopback port that
// counts the spans it receives and keeps none (-trace-sampling): what the
// benchmark measures with tracing on is the cost of recording and
// exporting the spans, not of storing them.
func startSpanSink() (endpoint string, received func() int64, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	var n atomic.Int64
	srv := &http.Server{Handler: otlp.Handler(func(s []otlp.Span) { n.Add(int64(len(s))) }), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), n.Load, func() { _ = srv.Close() }, nil
}
