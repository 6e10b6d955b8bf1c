package main

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	p50, p90, p99, max := percentiles(d)
	if p50 != 50 || p90 != 90 || p99 != 99 || max != 100 {
		t.Errorf("percentiles(1..100 ms) = %v, %v, %v, %v; want 50, 90, 99, 100", p50, p90, p99, max)
	}
	if p50, _, _, _ := percentiles(nil); p50 != 0 {
		t.Errorf("percentiles(nil) p50 = %v; want 0", p50)
	}
}

// The load does not wait for answers before sending the next request: the
// first request is held until ten more have arrived, and the held one's
// latency counts from its scheduled start.
func TestLoadIsOpenLoop(t *testing.T) {
	var calls atomic.Int64
	tenMore := make(chan struct{})
	var overlapped atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			select {
			case <-tenMore:
				overlapped.Store(true)
			case <-time.After(10 * time.Second):
			}
		case 11:
			close(tenMore)
		}
	}))
	defer srv.Close()
	l := Load{Rate: 100, Duration: time.Second}
	results := l.Run(context.Background(), newClient(16), get(srv.URL, nil))
	if !overlapped.Load() {
		t.Fatal("the first request was answered before ten more were sent; want an open loop")
	}
	s := summarize(l, results, http.StatusOK)
	if s.Sent != 100 || s.OK != 100 {
		t.Fatalf("summary = %+v; want 100 sent, 100 OK", s)
	}
	if first := results[0].Latency; first < 10*(10*time.Millisecond) {
		t.Errorf("the held request took %v; want at least the 100 ms until ten more were scheduled", first)
	}
	for i := 1; i < len(results); i++ {
		if gap := results[i].Intended.Sub(results[i-1].Intended); gap != 10*time.Millisecond {
			t.Fatalf("request %d scheduled %v after the one before; want 10ms", i, gap)
		}
	}
}

func TestMedianAndComparison(t *testing.T) {
	runs := []runResult{{Figures: figures{"a": 3, "b": 1}}, {Figures: figures{"a": 1, "b": 2}}, {Figures: figures{"a": 2}}}
	m := median(runs)
	if m["a"] != 2 || m["b"] != 1.5 {
		t.Errorf("median = %v; want a 2, b 1.5", m)
	}
	before, now := &results{Median: figures{"a": 4, "gone": 1}}, &results{Median: figures{"a": 2, "new": 1}}
	tab := comparison(before, now)
	if len(tab.rows) != 1 || tab.rows[0][0] != "a" || tab.rows[0][3] != "0.50" {
		t.Errorf("comparison rows = %v; want one row a with ratio 0.50", tab.rows)
	}
}

func TestPlotsAreWellFormedSVG(t *testing.T) {
	r := &results{Config: map[string]string{"order_duration": "10s"}, Median: figures{
		"orders/50/accepted_per_s": 50, "orders/50/post_p50_ms": 3, "orders/50/post_p99_ms": 9, "orders/50/confirmed": 500,
		"orders/100/accepted_per_s": 99, "orders/100/post_p50_ms": 4, "orders/100/post_p99_ms": 30, "orders/100/confirmed": 990,
		"overhead/1000/direct/p50_ms": 0.2, "overhead/1000/sidecar/p50_ms": 0.6, "overhead/1000/gateway/p50_ms": 1.1,
	}}
	plots := r.plots()
	for _, name := range []string{"orders-throughput.svg", "orders-post-latency.svg", "orders-saga-latency.svg", "overhead-1000.svg"} {
		svg, ok := plots[name]
		if !ok {
			t.Errorf("no plot %s", name)
			continue
		}
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Errorf("%s: %v", name, err)
				}
				break
			}
		}
	}
	if got := r.Median.rates("orders", "accepted_per_s"); len(got) != 2 || got[0] != 50 || got[1] != 100 {
		t.Errorf("rates = %v; want [50 100]", got)
	}
}

func TestReadUsageOfItself(t *testing.T) {
	u, err := readUsage(os.Getpid())
	if err != nil {
		t.Skip("no /proc:", err)
	}
	if u.RSS <= 0 || u.PeakRSS < u.RSS {
		t.Errorf("readUsage = %+v; want a resident size, and a peak at least as large", u)
	}
}
