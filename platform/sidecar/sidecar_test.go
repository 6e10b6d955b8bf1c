package sidecar

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		status int
		ok     bool
	}{
		{"ready", http.StatusNoContent, true},
		{"components loading", http.StatusInternalServerError, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v1.0/healthz/outbound" {
					t.Errorf("path = %q; want /v1.0/healthz/outbound", r.URL.Path)
				}
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			err := NewHealth(strings.TrimPrefix(srv.URL, "http://")).Check(context.Background())
			if (err == nil) != tt.ok {
				t.Errorf("Check() = %v; want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestCheckUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	if err := NewHealth(addr).Check(context.Background()); err == nil {
		t.Error("Check() on a closed port = nil; want an error")
	}
}

func TestWaitUntilReady(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	var retries int
	err := NewHealth(strings.TrimPrefix(srv.URL, "http://")).Wait(context.Background(), 10*time.Second, time.Millisecond, func(error) { retries++ })
	if err != nil {
		t.Fatalf("Wait() = %v; want nil", err)
	}
	if retries != 2 {
		t.Errorf("Wait() retried %d times; want 2", retries)
	}
}

func TestWaitTimesOut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	err := NewHealth(strings.TrimPrefix(srv.URL, "http://")).Wait(context.Background(), 50*time.Millisecond, time.Millisecond, nil)
	if err == nil || !strings.Contains(err.Error(), "waiting for the Dapr sidecar") {
		t.Errorf("Wait() = %v; want a timeout naming the sidecar", err)
	}
}
