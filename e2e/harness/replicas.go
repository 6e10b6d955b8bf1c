package harness

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ParseReplicas reads a replica count per service, "ordersvc=3,inventorysvc=2"
// (E2E_REPLICAS, and REPLICAS of scripts/run.sh); services not named run
// once. An empty value is one replica each.
func ParseReplicas(v string) (map[string]int, error) {
	out := map[string]int{}
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		svc, n, ok := strings.Cut(part, "=")
		count, err := strconv.Atoi(n)
		if !ok || err != nil || count < 1 || count > 9 {
			return nil, fmt.Errorf("%q: want service=count, count 1 to 9", part)
		}
		if !slices.Contains(Services, svc) {
			return nil, fmt.Errorf("%q: no service %s (services: %s)", part, svc, strings.Join(Services, ", "))
		}
		out[svc] = count
	}
	return out, nil
}

// Replicas are the process names of service svc's instances: svc for the
// first, then svc-2, svc-3... Each has its sidecar, name + "-dapr".
func (s *System) Replicas(svc string) []string {
	n := max(s.opts.Replicas[svc], 1)
	names := []string{svc}
	for i := 2; i <= n; i++ {
		names = append(names, fmt.Sprintf("%s-%d", svc, i))
	}
	return names
}

// resolve maps a name Kill takes to process names: a service's name (or
// its sidecar's) is every replica, "svc-1" is replica 1, any other name
// itself.
func (s *System) resolve(name string) []string {
	base, sidecar := strings.CutSuffix(name, "-dapr")
	suffix := ""
	if sidecar {
		suffix = "-dapr"
	}
	if slices.Contains(Services, base) {
		var names []string
		for _, r := range s.Replicas(base) {
			names = append(names, r+suffix)
		}
		return names
	}
	if svc, ok := strings.CutSuffix(base, "-1"); ok && slices.Contains(Services, svc) {
		return []string{svc + suffix}
	}
	return []string{name}
}

// each runs fn on every process name resolves, at once.
func (s *System) each(name string, fn func(string) error) error {
	names := s.resolve(name)
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(n)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Terminate stops one process as an orchestrator does in a rolling
// restart: SIGTERM, and it waits until the process has drained and exited
// (SIGKILL after ten seconds). Restart starts it again. name is one
// process ("ordersvc-1" or "ordersvc-2", "ordersvc-2-dapr"), not a whole
// service.
func (s *System) Terminate(name string) error {
	names := s.resolve(name)
	if len(names) != 1 {
		return fmt.Errorf("Terminate %q: name one replica of %s", name, strings.Join(names, ", "))
	}
	s.mu.Lock()
	p, ok := s.procs[names[0]]
	if ok {
		p.killed = true
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("no process %q", name)
	}
	p.stop()
	return nil
}

// proxyBroker starts the proxy of Options.BrokerProxy in front of the
// profile's pub/sub server: the redisHost of pubsub.redis (rewritten in the
// rendered pubsub.yaml) or the host of the RabbitMQ connection string
// (rewritten in the run's secrets).
func (s *System) proxyBroker(secrets map[string]string) error {
	b, err := os.ReadFile(filepath.Join(s.opts.Root, "components", s.opts.Profile, "pubsub.yaml"))
	if err != nil {
		return err
	}
	switch {
	case strings.Contains(string(b), "type: pubsub.redis"):
		m := redisHostLine.FindSubmatch(b)
		if m == nil {
			return errors.New("BrokerProxy: no redisHost in pubsub.yaml")
		}
		s.Broker, err = NewProxy(string(m[2]))
		return err
	case strings.Contains(string(b), "type: pubsub.rabbitmq"):
		u, err := url.Parse(secrets["rabbitmq-connection-string"])
		if err != nil || u.Host == "" {
			return fmt.Errorf("BrokerProxy: rabbitmq-connection-string is not a URL: %v", err)
		}
		if s.Broker, err = NewProxy(u.Host); err != nil {
			return err
		}
		u.Host = s.Broker.Addr
		secrets["rabbitmq-connection-string"] = u.String()
		return nil
	}
	return fmt.Errorf("BrokerProxy: profile %s has neither pubsub.redis nor pubsub.rabbitmq", s.opts.Profile)
}
