// Command trace is the development run's trace receiver and viewer, so
// that one order's trace can be seen without a tracing backend:
//
//	go run ./tools/trace serve              receive OTLP/HTTP spans on 127.0.0.1:4318 into .dev/traces.jsonl
//	go run ./tools/trace <order-id>         print that order's trace(s) as a tree: service, span, duration
//
// scripts/run.sh starts the receiver next to the system; the sidecars
// (components/config) and the apps (OTEL_EXPORTER_OTLP_ENDPOINT in
// dapr.yaml) export to it. The file grows with every request: delete it
// when it gets large.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"shop/tools/trace/otlp"
)

const defaultFile = ".dev/traces.jsonl"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "trace:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) > 0 && args[0] == "serve" {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		addr := fs.String("addr", "127.0.0.1:4318", "where to receive OTLP/HTTP (a loopback address)")
		file := fs.String("file", defaultFile, "the file the spans are appended to, one JSON object a line")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return serve(*addr, *file)
	}
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	file := fs.String("file", defaultFile, "the receiver's file")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: trace [-file F] <order-id> | trace serve [-addr A] [-file F]")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("name one order id")
	}
	return show(os.Stdout, *file, fs.Arg(0))
}

func serve(addr, file string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-addr %q: the receiver listens on a loopback address only", addr)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	var mu sync.Mutex
	enc := json.NewEncoder(f)
	sink := func(spans []otlp.Span) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range spans {
			_ = enc.Encode(s)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: otlp.Handler(sink), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(os.Stderr, "trace: receiving OTLP/HTTP on http://%s/v1/traces into %s\n", ln.Addr(), file)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func show(w *os.File, file, orderID string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("%w (is the receiver running? scripts/run.sh starts it)", err)
	}
	defer f.Close()
	var spans []otlp.Span
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var s otlp.Span
		if json.Unmarshal(sc.Bytes(), &s) == nil {
			spans = append(spans, s)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	ids := otlp.TraceIDs(spans, orderID)
	if len(ids) == 0 {
		return fmt.Errorf("no span of order %s in %s", orderID, file)
	}
	for _, id := range ids {
		fmt.Fprintf(w, "trace %s\n%s\n", id, otlp.Tree(otlp.Trace(spans, id)))
	}
	return nil
}
