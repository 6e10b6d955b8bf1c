// Package sidecar knows how to tell whether the app's Dapr sidecar is up, and
// how to wait for it at start instead of crashing.
package sidecar

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Health checks the sidecar's outbound health endpoint: it answers 204 once
// the sidecar has loaded its components and can serve the app's calls.
type Health struct {
	url    string
	client *http.Client
}

// NewHealth returns a checker for the sidecar whose HTTP API listens on
// addr (host:port, for example 127.0.0.1:3500).
func NewHealth(addr string) *Health {
	return &Health{
		url:    "http://" + addr + "/v1.0/healthz/outbound",
		client: &http.Client{Timeout: 2 * time.Second},
	}
}

// Check answers nil when the sidecar is ready.
func (h *Health) Check(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return fmt.Errorf("sidecar health: %w", err)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("sidecar unreachable: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sidecar not ready: %s", resp.Status)
	}
	return nil
}

// Wait polls Check every interval until it succeeds, ctx ends or timeout
// passes; onRetry (may be nil) sees each failure, for logging.
func (h *Health) Wait(ctx context.Context, timeout, interval time.Duration, onRetry func(error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		err := h.Check(ctx)
		if err == nil {
			return nil
		}
		if onRetry != nil {
			onRetry(err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the Dapr sidecar at %s: %w (last error: %v)", h.url, ctx.Err(), err)
		case <-tick.C:
		}
	}
}
