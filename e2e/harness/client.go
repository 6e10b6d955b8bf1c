package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Response is what a call through the gateway answered.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r *Response) JSON(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decode %d response %q: %w", r.Status, r.Body, err)
	}
	return nil
}

// Request is a call to one service through the gateway.
type Request struct {
	Method string
	// Service is one of Services; Path is the app's route, e.g. "/products".
	Service, Path string
	// Body is sent as is when it is []byte or string, else as JSON; nil sends
	// no body.
	Body   any
	Header http.Header
	// NoRetry sends the request once even when the gateway's rate limit
	// answers 429 (by default the call waits and retries, as a client should).
	NoRetry bool
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// Do sends req through the gateway sidecar with Dapr service invocation.
func (s *System) Do(ctx context.Context, req Request) (*Response, error) {
	var body []byte
	switch b := req.Body.(type) {
	case nil:
	case []byte:
		body = b
	case string:
		body = []byte(b)
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			return nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		hr, err := http.NewRequestWithContext(ctx, req.Method, s.InvokeURL(req.Service, req.Path), bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		for k, v := range req.Header {
			hr.Header[k] = v
		}
		if body != nil && hr.Header.Get("Content-Type") == "" {
			hr.Header.Set("Content-Type", "application/json")
		}
		resp, err := httpClient.Do(hr)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.Path, err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusTooManyRequests && !req.NoRetry && attempt < 50 {
			wait := 100 * time.Millisecond
			if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
				wait = time.Duration(secs) * time.Second
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(wait):
			}
			continue
		}
		return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
	}
}

// Eventually polls check every 100ms until it returns nil or timeout passes,
// and returns check's last error.
func Eventually(ctx context.Context, timeout time.Duration, check func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %v: %w", timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TopicOwners names the service that publishes each of Topics: only its
// sidecar may publish there (the pub/sub component's publishingScopes), and
// subscribers accept only its events.
var TopicOwners = map[string]string{"orders": "ordersvc", "inventory": "inventorysvc", "users": "usersvc"}

// Publish publishes data as a CloudEvent on topic (a name of Topics, mapped
// to this run's) of the pub/sub component "pubsub" through the sidecar of
// the topic's owner (TopicOwners): it publishes as that service would, for
// tests of consumers (events its owner does not publish yet, or duplicated
// and reordered deliveries). Tests of the whole saga drive the public API
// instead.
func (s *System) Publish(ctx context.Context, topic string, data any) error {
	return s.PublishAs(ctx, TopicOwners[topic], topic, data)
}

// PublishAs publishes data on topic through the sidecar of service svc,
// which its topic scopes may refuse.
func (s *System) PublishAs(ctx context.Context, svc, topic string, data any) error {
	s.mu.Lock()
	sidecar, ok := s.procs[svc+"-dapr"]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("publish: no sidecar of %q is running", svc)
	}
	body, err := json.Marshal(data)
	if err != nil {
		return err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/v1.0/publish/pubsub/%s?metadata.rawPayload=false", sidecar.port, s.Topic(topic))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("dapr-api-token", sidecar.daprToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("publish to %s: %w", topic, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("publish to %s: %s %s", topic, resp.Status, msg)
	}
	return nil
}
