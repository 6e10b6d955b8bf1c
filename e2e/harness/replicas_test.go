package harness

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseReplicas(t *testing.T) {
	got, err := ParseReplicas(" ordersvc=3, inventorysvc=2 ")
	if err != nil || got["ordersvc"] != 3 || got["inventorysvc"] != 2 || len(got) != 2 {
		t.Fatalf("ParseReplicas = %v, %v", got, err)
	}
	for _, bad := range []string{"ordersvc", "ordersvc=0", "ordersvc=x", "nosuch=2", "ordersvc=10"} {
		if _, err := ParseReplicas(bad); err == nil {
			t.Errorf("ParseReplicas(%q) accepted", bad)
		}
	}
}

// A service's name is all its replicas; svc-1 and svc-k one of them.
func TestReplicaNames(t *testing.T) {
	s := &System{opts: Options{Replicas: map[string]int{"ordersvc": 3}}}
	for name, want := range map[string][]string{
		"ordersvc":        {"ordersvc", "ordersvc-2", "ordersvc-3"},
		"ordersvc-dapr":   {"ordersvc-dapr", "ordersvc-2-dapr", "ordersvc-3-dapr"},
		"ordersvc-1":      {"ordersvc"},
		"ordersvc-1-dapr": {"ordersvc-dapr"},
		"ordersvc-2":      {"ordersvc-2"},
		"usersvc":         {"usersvc"},
		"gateway-dapr":    {"gateway-dapr"},
	} {
		if got := s.resolve(name); !slices.Equal(got, want) {
			t.Errorf("resolve(%q) = %v; want %v", name, got, want)
		}
	}
}

// With BrokerProxy, only the pub/sub component of the redis profile points
// at the proxy; the state stores still reach Redis itself.
func TestBrokerProxyRendering(t *testing.T) {
	s := &System{opts: Options{Root: filepath.Join("..", ".."), Profile: "redis", BrokerProxy: true}, dir: t.TempDir(), suffix: "t1"}
	secrets := map[string]string{}
	if err := s.proxyBroker(secrets); err != nil {
		t.Fatal(err)
	}
	defer s.Broker.Close()
	folders, err := s.renderResources(secrets)
	if err != nil {
		t.Fatal(err)
	}
	profile := folders["app"][1]
	pubsub, _ := os.ReadFile(filepath.Join(profile, "pubsub.yaml"))
	state, _ := os.ReadFile(filepath.Join(profile, "orders-state.yaml"))
	if !strings.Contains(string(pubsub), `value: "`+s.Broker.Addr+`"`) || strings.Contains(string(pubsub), s.Broker.Target) {
		t.Errorf("pubsub.yaml does not point at the proxy %s:\n%s", s.Broker.Addr, pubsub)
	}
	if !strings.Contains(string(state), s.Broker.Target) {
		t.Errorf("orders-state.yaml should reach Redis at %s directly:\n%s", s.Broker.Target, state)
	}
}

// The proxy forwards, cuts open connections when down (the client's end
// and the server's), refuses new ones until up.
func TestProxyDownAndUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// ended receives once the server's end of a connection reads EOF.
	ended := make(chan struct{}, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close(); ended <- struct{}{} }()
		}
	}()
	p, err := NewProxy(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	echo := func(c net.Conn) error {
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write([]byte("ping")); err != nil {
			return err
		}
		b := make([]byte, 4)
		_, err := io.ReadFull(c, b)
		return err
	}
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := echo(c); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	p.Down()
	select {
	case <-ended:
	case <-time.After(2 * time.Second):
		t.Error("down: the server's end of an open connection is still open")
	}
	if err := echo(c); err == nil {
		t.Error("an open connection still works while the proxy is down")
	}
	c2, err := net.Dial("tcp", p.Addr)
	if err == nil {
		if echo(c2) == nil {
			t.Error("a new connection works while the proxy is down")
		}
		c2.Close()
	}
	p.Up()
	c3, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if err := echo(c3); err != nil {
		t.Errorf("after Up: %v", err)
	}
}
