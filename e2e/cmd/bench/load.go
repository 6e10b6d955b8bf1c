package main

import (
	"context"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// A call is one request of a load: send it and say what came back. The
// body it returns is kept only when the load asks for bodies.
type call func(ctx context.Context, client *http.Client, i int) (status int, body []byte, err error)

// Result is what one request of a load got.
type Result struct {
	Intended time.Time     // when the schedule meant to send it
	Latency  time.Duration // from Intended to the end of the response
	Status   int           // 0 when the request failed without an answer
	Body     []byte
	Err      error
}

// Load is an open-loop load: requests at a fixed arrival rate, each sent at
// its scheduled time whether or not earlier ones have been answered, and
// each timed from that scheduled time. A stall of the system therefore
// shows in the latency of every request scheduled during it, and is not
// hidden by the client waiting (coordinated omission).
type Load struct {
	Rate     float64       // requests per second
	Duration time.Duration // how long the schedule runs
	// MaxInFlight bounds the requests outstanding at once; a request
	// waiting for a slot is still timed from its scheduled start.
	MaxInFlight int
	// KeepBodies keeps every response body in its Result.
	KeepBodies bool
	Timeout    time.Duration // per request (default 30 s)
}

// newClient is an HTTP client that keeps up to maxConns connections per
// host open for reuse.
func newClient(maxConns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = maxConns
	t.MaxIdleConnsPerHost = maxConns
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t}
}

// Run sends the load's requests with client and returns one Result per
// scheduled request, in schedule order.
func (l Load) Run(ctx context.Context, client *http.Client, do call) []Result {
	n := int(l.Rate * l.Duration.Seconds())
	if n < 1 {
		n = 1
	}
	if l.MaxInFlight <= 0 {
		l.MaxInFlight = 4096
	}
	if l.Timeout <= 0 {
		l.Timeout = 30 * time.Second
	}
	results := make([]Result, n)
	slots := make(chan struct{}, l.MaxInFlight)
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / l.Rate)
	start := time.Now()
	for i := 0; i < n; i++ {
		intended := start.Add(time.Duration(i) * interval)
		if d := time.Until(intended); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			n = i
			break
		}
		wg.Add(1)
		go func(i int, intended time.Time) {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			rctx, cancel := context.WithTimeout(ctx, l.Timeout)
			defer cancel()
			status, body, err := do(rctx, client, i)
			r := Result{Intended: intended, Latency: time.Since(intended), Status: status, Err: err}
			if l.KeepBodies {
				r.Body = body
			}
			results[i] = r
		}(i, intended)
	}
	wg.Wait()
	return results[:n]
}

// send does req with client and reads the whole answer, so that the
// connection goes back to the pool.
func send(client *http.Client, req *http.Request) (int, []byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// Summary is the latency distribution and outcome counts of a load.
type Summary struct {
	Offered  float64     `json:"offered_per_s"`
	Sent     int         `json:"sent"`
	OK       int         `json:"ok"`       // answered with the expected status
	Failed   int         `json:"failed"`   // any other answer, or none
	Achieved float64     `json:"ok_per_s"` // OK answers per second of the schedule
	P50      float64     `json:"p50_ms"`   // over OK answers
	P90      float64     `json:"p90_ms"`   //
	P99      float64     `json:"p99_ms"`   //
	Max      float64     `json:"max_ms"`   //
	Statuses map[int]int `json:"statuses"` // every status seen (0: no answer)
}

// summarize counts results answered with want as OK and takes the
// percentiles of their latencies.
func summarize(l Load, results []Result, want int) Summary {
	s := Summary{Offered: l.Rate, Sent: len(results), Statuses: map[int]int{}}
	var lat []time.Duration
	span := l.Duration
	for _, r := range results {
		s.Statuses[r.Status]++
		if r.Status == want && r.Err == nil {
			s.OK++
			lat = append(lat, r.Latency)
			span = max(span, r.Intended.Add(r.Latency).Sub(results[0].Intended))
		} else {
			s.Failed++
		}
	}
	s.Achieved = float64(s.OK) / span.Seconds()
	s.P50, s.P90, s.P99, s.Max = percentiles(lat)
	return s
}

// percentiles of d in milliseconds (nearest rank); zero for no samples.
func percentiles(d []time.Duration) (p50, p90, p99, max float64) {
	if len(d) == 0 {
		return 0, 0, 0, 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(q float64) float64 {
		i := int(q*float64(len(d))+0.999999) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(d) {
			i = len(d) - 1
		}
		return ms(d[i])
	}
	return at(0.50), at(0.90), at(0.99), ms(d[len(d)-1])
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
