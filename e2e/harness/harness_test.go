package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Options.GatewayRateLimit finds the rate limit in the gateway's component
// and renders a copy with the new value, changing nothing else.
func TestGatewayRateLimit(t *testing.T) {
	dir := t.TempDir()
	s := &System{opts: Options{Root: filepath.Join("..", ".."), Profile: "local", GatewayRateLimit: 12345}, dir: dir, suffix: "t1"}
	folders, err := s.renderResources(nil)
	if err != nil {
		t.Fatal(err)
	}
	var rendered []byte
	for _, f := range folders["gateway"] {
		if b, err := os.ReadFile(filepath.Join(f, "ratelimit.yaml")); err == nil {
			rendered = b
		}
	}
	orig, err := os.ReadFile(filepath.Join("..", "..", "components", "gateway", "ratelimit.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rendered), `value: "12345"`) {
		t.Fatalf("rendered ratelimit.yaml:\n%s\nwant maxRequestsPerSecond 12345", rendered)
	}
	want := rateLimitLine.ReplaceAllString(string(orig), `${1}"12345"`)
	want = scopeLine.ReplaceAllString(want, "${1}$2-t1")
	if string(rendered) != want {
		t.Errorf("rendered ratelimit.yaml:\n%s\nwant:\n%s", rendered, want)
	}
}

func TestRenameTopics(t *testing.T) {
	s := &System{suffix: "x1", AppIDs: map[string]string{"ordersvc": "ordersvc-x1", "inventorysvc": "inventorysvc-x1", "usersvc": "usersvc-x1"}}
	tests := map[string]string{
		"ordersvc=orders,orders-deadletter,inventory-deadletter;inventorysvc=inventory;usersvc=users": "ordersvc-x1=orders-x1,orders-x1-deadletter,inventory-x1-deadletter;inventorysvc-x1=inventory-x1;usersvc-x1=users-x1",
		"orders,inventory,users-deadletter": "orders-x1,inventory-x1,users-x1-deadletter",
		"other=topic":                       "other=topic",
	}
	for in, want := range tests {
		if got := s.renameTopics(in); got != want {
			t.Errorf("renameTopics(%q) = %q; want %q", in, got, want)
		}
	}
}
