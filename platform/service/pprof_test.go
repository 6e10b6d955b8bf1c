package service

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/sirupsen/logrus"
)

func TestStartPprofRefusesNonLoopback(t *testing.T) {
	log := logrus.NewEntry(logrus.New())
	for _, addr := range []string{"0.0.0.0:6060", ":6060", "192.0.2.1:6060", "example.com:6060", "127.0.0.1"} {
		if err := startPprof(context.Background(), log, addr); err == nil {
			t.Errorf("startPprof(%q) = nil; want an error", addr)
		}
	}
	if err := startPprof(context.Background(), log, ""); err != nil {
		t.Errorf("startPprof(\"\") = %v; want nil (off)", err)
	}
}

func TestStartPprofServesProfiles(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := startPprof(ctx, logrus.NewEntry(logrus.New()), addr); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Errorf("GET /debug/pprof/goroutine = %d, %d bytes; want 200 with a profile", resp.StatusCode, len(body))
	}
}
