package validate

import (
	"strings"
	"testing"
)

// Who may call what, through the manifests' Dapr access control: the
// public routes of every app through the gateway, and the few internal
// calls between apps (docs: DESIGN.md, Services and API).
func TestAccessControl(t *testing.T) {
	b := renderOverlay(t, "redis")
	ns := b.Deployments[0].Namespace
	callee := map[string]*AccessControlSpec{}
	for _, d := range b.Deployments {
		cfg := b.configuration(d.Spec.Template.Annotations[AnnConfig])
		if cfg == nil {
			t.Fatalf("Deployment %s: no Configuration", d.Name)
		}
		callee[d.Spec.Template.Annotations[AnnAppID]] = cfg.Spec.AccessControl
	}
	const allow, deny = true, false
	tests := []struct {
		from, to, verb, path string
		want                 bool
	}{
		// The gateway: public routes only.
		{"gateway", "usersvc", "POST", "/users", allow},
		{"gateway", "usersvc", "POST", "/auth/token", allow},
		{"gateway", "usersvc", "GET", "/.well-known/jwks.json", allow},
		{"gateway", "usersvc", "GET", "/users/me", allow},
		{"gateway", "usersvc", "PATCH", "/users/me", allow},
		{"gateway", "usersvc", "GET", "/users/u-123", allow},
		{"gateway", "usersvc", "DELETE", "/users/u-123", deny},
		{"gateway", "usersvc", "GET", "/auth/token", deny},
		{"gateway", "usersvc", "GET", "/healthz", deny},
		{"gateway", "usersvc", "GET", "/dapr/subscribe", deny},
		{"gateway", "inventorysvc", "GET", "/products", allow},
		{"gateway", "inventorysvc", "GET", "/products/sku-1", allow},
		{"gateway", "inventorysvc", "POST", "/products", allow},
		{"gateway", "inventorysvc", "POST", "/products/sku-1/restock", allow},
		{"gateway", "inventorysvc", "POST", "/products/lookup", deny},
		{"gateway", "inventorysvc", "POST", "/Products/Lookup", deny},
		{"gateway", "inventorysvc", "DELETE", "/products/sku-1", deny},
		{"gateway", "inventorysvc", "POST", "/events/orders", deny},
		{"gateway", "ordersvc", "POST", "/orders", allow},
		{"gateway", "ordersvc", "GET", "/orders", allow},
		{"gateway", "ordersvc", "GET", "/orders/o-1", allow},
		{"gateway", "ordersvc", "POST", "/orders/o-1/cancel", allow},
		{"gateway", "ordersvc", "DELETE", "/orders/o-1", deny},
		{"gateway", "ordersvc", "POST", "/events/inventory", deny},
		// Between apps: prices, and the token keys.
		{"ordersvc", "inventorysvc", "POST", "/products/lookup", allow},
		{"ordersvc", "inventorysvc", "POST", "/products", deny},
		{"ordersvc", "inventorysvc", "GET", "/products", deny},
		{"ordersvc", "usersvc", "GET", "/.well-known/jwks.json", allow},
		{"ordersvc", "usersvc", "POST", "/users", deny},
		{"inventorysvc", "usersvc", "GET", "/.well-known/jwks.json", allow},
		{"inventorysvc", "usersvc", "POST", "/auth/token", deny},
		{"inventorysvc", "ordersvc", "GET", "/orders", deny},
		{"usersvc", "inventorysvc", "GET", "/products", deny},
		{"usersvc", "ordersvc", "GET", "/orders", deny},
		{"unknown", "ordersvc", "GET", "/orders", deny},
		// The storefront: what its pages use, nothing more.
		{"storefront", "usersvc", "POST", "/users", allow},
		{"storefront", "usersvc", "POST", "/auth/token", allow},
		{"storefront", "usersvc", "GET", "/users/u-123", deny},
		{"storefront", "usersvc", "GET", "/dapr/subscribe", deny},
		{"storefront", "inventorysvc", "GET", "/products", allow},
		{"storefront", "inventorysvc", "GET", "/products/sku-1", allow},
		{"storefront", "inventorysvc", "POST", "/products", allow},
		{"storefront", "inventorysvc", "POST", "/products/sku-1/restock", allow},
		{"storefront", "inventorysvc", "GET", "/dead-letters", allow},
		{"storefront", "inventorysvc", "POST", "/products/lookup", deny},
		{"storefront", "inventorysvc", "POST", "/events/orders", deny},
		{"storefront", "ordersvc", "POST", "/orders", allow},
		{"storefront", "ordersvc", "GET", "/orders/o-1", allow},
		{"storefront", "ordersvc", "POST", "/orders/o-1/cancel", allow},
		{"storefront", "ordersvc", "GET", "/dead-letters", allow},
		{"storefront", "ordersvc", "POST", "/saga-timeout", deny},
		{"storefront", "ordersvc", "POST", "/events/inventory", deny},
		// Nothing invokes the storefront.
		{"gateway", "storefront", "GET", "/", deny},
		{"ordersvc", "storefront", "GET", "/orders", deny},
	}
	for _, tt := range tests {
		acl := callee[tt.to]
		got := acl.Allows(Caller{AppID: tt.from, Namespace: ns, TrustDomain: "public"}, tt.verb, tt.path)
		if got != tt.want {
			t.Errorf("%s -> %s %s %s allowed = %v; want %v", tt.from, tt.to, tt.verb, tt.path, got, tt.want)
		}
	}
	// The same caller from another namespace or trust domain is a stranger.
	for _, c := range []Caller{
		{AppID: "gateway", Namespace: ns + "-other", TrustDomain: "public"},
		{AppID: "gateway", Namespace: ns, TrustDomain: "elsewhere"},
	} {
		if callee["ordersvc"].Allows(c, "GET", "/orders") {
			t.Errorf("%+v may call ordersvc GET /orders; want denied", c)
		}
	}
}

// The model of Dapr's matching, pinned to what daprd 1.14.4's own code
// decides for the same entries (measured by running github.com/dapr/dapr
// v1.14.4 pkg/config's operation trie on these cases; v1.18's
// pkg/config/acl_trie.go is the same file).
func TestACLModel(t *testing.T) {
	policy := func(ops ...AppOperationAction) *AccessControlSpec {
		return &AccessControlSpec{DefaultAction: "deny", TrustDomain: "public", Policies: []AppPolicySpec{{
			AppID: "a", DefaultAction: "deny", TrustDomain: "public", Namespace: "ns", Operations: ops,
		}}}
	}
	op := func(name, action string, verbs ...string) AppOperationAction {
		return AppOperationAction{Name: name, Action: action, HTTPVerb: verbs}
	}
	a := Caller{AppID: "a", Namespace: "ns", TrustDomain: "public"}
	tests := []struct {
		name string
		acl  *AccessControlSpec
		verb string
		path string
		want bool
	}{
		{"exact", policy(op("/x", "allow", "GET")), "GET", "/x", true},
		{"an entry covers what is below it", policy(op("/x", "allow", "GET")), "GET", "/x/y/z", true},
		{"verb not listed", policy(op("/x", "allow", "GET")), "POST", "/x", false},
		{"verb wildcard", policy(op("/x", "allow", "*")), "DELETE", "/x", true},
		{"case-insensitive", policy(op("/X", "allow", "GET")), "GET", "/x", true},
		{"a narrower entry under a broader one never decides",
			policy(op("/x", "allow", "GET"), op("/x/y", "deny", "*")), "GET", "/x/y", true},
		{"star: the last segment", policy(op("/x/*", "allow", "GET")), "GET", "/x/1", true},
		{"star: the parent too", policy(op("/x/*", "allow", "GET")), "GET", "/x", true},
		{"star: not two segments", policy(op("/x/*", "allow", "GET")), "GET", "/x/1/2", false},
		{"star in the middle matches nothing", policy(op("/x/*/y", "allow", "GET")), "GET", "/x/1/y", false},
		{"double star: any depth", policy(op("/x/**", "allow", "GET")), "GET", "/x/1/2", true},
		{"double star: none", policy(op("/x/**", "allow", "GET")), "GET", "/x", true},
		{"the first sibling wins: exception first",
			policy(op("/x/y", "deny", "*"), op("/x/**", "allow", "GET")), "GET", "/x/y", false},
		{"the first sibling wins: exception last is shadowed",
			policy(op("/x/**", "allow", "GET"), op("/x/y", "deny", "*")), "GET", "/x/y", true},
		{"a repeated name is ignored",
			policy(op("/x", "allow", "GET"), op("/x", "allow", "POST")), "POST", "/x", false},
		{"glob in a segment", policy(op("/x/pro*", "allow", "GET")), "GET", "/x/products", true},
	}
	for _, tt := range tests {
		if got := tt.acl.Allows(a, tt.verb, tt.path); got != tt.want {
			t.Errorf("%s: %s %s allowed = %v; want %v", tt.name, tt.verb, tt.path, got, tt.want)
		}
	}
	if policy(op("/x", "allow", "GET")).Allows(Caller{AppID: "b", Namespace: "ns", TrustDomain: "public"}, "GET", "/x") {
		t.Errorf("a caller without a policy gets the global default (deny)")
	}
	if !(&AccessControlSpec{}).Allows(a, "GET", "/x") {
		t.Errorf("no access control at all allows everything")
	}
}

// Entries Dapr would never use are reported, so that an allow or a deny
// that does nothing cannot go unnoticed.
func TestUnreachableOperationsAreReported(t *testing.T) {
	p := AppPolicySpec{Operations: []AppOperationAction{
		{Name: "/orders", Action: "allow", HTTPVerb: []string{"GET"}},
		{Name: "/orders/lookup", Action: "deny", HTTPVerb: []string{"*"}},
		{Name: "/items/*/restock", Action: "allow", HTTPVerb: []string{"POST"}},
		{Name: "/orders", Action: "allow", HTTPVerb: []string{"POST"}},
	}}
	got := strings.Join(p.unreachable(), "\n")
	for _, want := range []string{
		"/orders/lookup: a request for /orders/lookup is decided by /orders",
		"/items/*/restock: a request for /items/x/restock is decided by no entry",
		"/orders: the same name is listed before",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("unreachable() = %q; want it to report %q", got, want)
		}
	}
	ok := AppPolicySpec{Operations: []AppOperationAction{
		{Name: "/products/lookup", Action: "deny", HTTPVerb: []string{"*"}},
		{Name: "/products/**", Action: "allow", HTTPVerb: []string{"GET"}},
	}}
	if u := ok.unreachable(); len(u) != 0 {
		t.Errorf("unreachable() = %q for an exception listed first; want none", u)
	}
}
