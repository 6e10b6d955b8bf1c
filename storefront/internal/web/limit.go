package web

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// limiter allows n attempts per window per client address (a fixed window,
// enough to slow password guessing; the services' own checks still apply).
type limiter struct {
	n      int
	window time.Duration
	mu     sync.Mutex
	start  time.Time
	counts map[string]int
}

func newLimiter(n int, window time.Duration) *limiter {
	return &limiter{n: n, window: window, counts: map[string]int{}}
}

func (l *limiter) allow(addr string, now time.Time) bool {
	if l.n <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) >= l.window {
		// A new window: the map holds at most one window's addresses.
		l.start, l.counts = now, map[string]int{}
	}
	l.counts[addr]++
	return l.counts[addr] <= l.n
}

// clientAddress is the address the request came from (its host part).
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
