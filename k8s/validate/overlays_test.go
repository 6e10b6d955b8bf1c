package validate

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func TestOverlayList(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(k8sDir, "overlays"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.IsDir() {
			got = append(got, e.Name())
		}
	}
	if want := overlayNames(); !slices.Equal(got, want) {
		t.Errorf("k8s/overlays has %v; the tests know %v: add the new profile to the overlays table", got, want)
	}
}

// Every overlay renders, decodes strictly, and passes every rule.
func TestOverlaysPassChecks(t *testing.T) {
	for _, name := range overlayNames() {
		t.Run(name, func(t *testing.T) {
			b := renderOverlay(t, name)
			if err := b.Check(external(t)); err != nil {
				t.Errorf("overlay %s:\n%v", name, err)
			}
			if len(b.Deployments) != len(services) {
				t.Errorf("overlay %s has %d Deployments, want %d", name, len(b.Deployments), len(services))
			}
			for _, o := range []struct {
				kind string
				n    int
			}{
				{"Deployment", len(b.Deployments)}, {"Service", len(b.Services)}, {"PodDisruptionBudget", len(b.PDBs)},
				{"ServiceAccount", len(b.ServiceAccounts)}, {"Component", len(b.Components)},
				{"Configuration", len(b.Configurations)}, {"Resiliency", len(b.Resiliencies)}, {"Ingress", len(b.Ingresses)},
			} {
				if o.n == 0 {
					t.Errorf("overlay %s renders no %s", name, o.kind)
				}
			}
		})
	}
}

// Each profile runs the component types it promises, under the names the
// code uses, each exactly once.
func TestOverlayComponentTypes(t *testing.T) {
	for _, name := range overlayNames() {
		b := renderOverlay(t, name)
		got := map[string]string{}
		for _, c := range b.Components {
			if _, dup := got[c.Name]; dup {
				t.Errorf("overlay %s: component %s twice", name, c.Name)
			}
			got[c.Name] = c.Spec.Type
		}
		want := overlays[name]
		for n, typ := range want {
			if got[n] != typ {
				t.Errorf("overlay %s: component %s has type %q, want %q", name, n, got[n], typ)
			}
		}
		for n := range got {
			if _, ok := want[n]; !ok {
				t.Errorf("overlay %s: unexpected component %s", name, n)
			}
		}
	}
}

// The component names the services read (STATE_STORE, PUBSUB, SECRET_STORE
// defaults in their config.go) exist in every overlay, and the overlays
// define the same components as the local profile (components/common,
// local, gateway): a component added there must be added here too.
func TestComponentNamesMatchCodeAndLocalProfile(t *testing.T) {
	fromCode := map[string]bool{}
	for _, svc := range services {
		f := readServiceFacts(t, svc)
		for _, key := range []string{"STATE_STORE", "PUBSUB", "SECRET_STORE"} {
			if def := f.env[key]; def != "" {
				fromCode[def] = true
			}
		}
	}
	for _, n := range []string{"users-state", "orders-state", "inventory-state", "pubsub", "secretstore"} {
		if !fromCode[n] {
			t.Errorf("no service's config.go names component %q any more; update this test and the manifests", n)
		}
	}

	local := map[string]Component{}
	for _, dir := range []string{"common", "local", "gateway"} {
		files, err := filepath.Glob(filepath.Join(repoDir, "components", dir, "*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("components/%s: %v (%d files)", dir, err, len(files))
		}
		for _, f := range files {
			data := readFile(t, f)
			if !bytes.Contains(data, []byte("\nkind: Component\n")) {
				continue // a Resiliency or another kind of Dapr resource
			}
			var c Component
			if err := StrictYAML(data, &c); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			local[c.Name] = c
		}
	}
	for n := range fromCode {
		if _, ok := local[n]; !ok {
			t.Errorf("the code uses component %q but the local profile lacks it", n)
		}
	}

	for _, name := range overlayNames() {
		b := renderOverlay(t, name)
		for n := range fromCode {
			if b.Component(n) == nil {
				t.Errorf("overlay %s lacks component %q, which the code uses", name, n)
			}
		}
		for n, lc := range local {
			kc := b.Component(n)
			if kc == nil {
				t.Errorf("overlay %s lacks component %q of the local profile", name, n)
				continue
			}
			// Who may publish and subscribe to which topic is the same
			// everywhere.
			for _, m := range []string{"publishingScopes", "subscriptionScopes", "protectedTopics"} {
				lv, lok := lc.Metadata(m)
				kv, kok := kc.Metadata(m)
				if lok != kok || lv.ValueString() != kv.ValueString() {
					t.Errorf("overlay %s: component %s has %s %q; the local profile has %q", name, n, m, kv.ValueString(), lv.ValueString())
				}
			}
			// The saga keeps its events in its own records (DESIGN.md):
			// no state store carries Dapr's transactional outbox, whose
			// writes on Redis publish even when their transaction failed.
			for _, c := range []Component{lc, *kc} {
				for _, m := range c.Spec.Metadata {
					if strings.HasPrefix(m.Name, "outbox") {
						t.Errorf("overlay %s / local profile: component %s has outbox metadata %s", name, n, m.Name)
					}
				}
			}
		}
		for _, c := range b.Components {
			if _, ok := local[c.Name]; !ok {
				t.Errorf("overlay %s has component %q, which the local profile lacks", name, c.Name)
			}
		}
	}
}

// The overlays swap only Dapr components: everything else renders the same.
func TestOverlaysDifferOnlyInComponents(t *testing.T) {
	var first string
	var want []Object
	for _, name := range overlayNames() {
		objs, err := Render(filesys.MakeFsOnDisk(), filepath.Join(k8sDir, "overlays", name))
		if err != nil {
			t.Fatal(err)
		}
		var rest []Object
		for _, o := range objs {
			if o.Kind != "Component" {
				rest = append(rest, o)
			}
		}
		if want == nil {
			first, want = name, rest
			continue
		}
		if len(rest) != len(want) {
			t.Errorf("overlay %s has %d objects besides components, %s has %d", name, len(rest), first, len(want))
			continue
		}
		for i := range rest {
			if rest[i].String() != want[i].String() || !bytes.Equal(rest[i].JSON, want[i].JSON) {
				t.Errorf("overlay %s: %s differs from %s's %s", name, rest[i], first, want[i])
			}
		}
	}
}

// The state stores of the redis-based and postgres-based profiles and the
// brokers take their connection details from the Secrets the operator
// guide tells to create, under these names and keys.
func TestSecretReferences(t *testing.T) {
	documented := string(readFile(t, filepath.Join(repoDir, "docs", "operators.md")))
	for _, name := range overlayNames() {
		b := renderOverlay(t, name)
		for _, c := range b.Components {
			for _, m := range c.Spec.Metadata {
				if m.SecretKeyRef == nil {
					continue
				}
				ref := m.SecretKeyRef
				if !strings.Contains(documented, ref.Name) || !strings.Contains(documented, "--from-literal="+ref.Key+"=") {
					t.Errorf("overlay %s: component %s reads Secret %s key %s, which docs/operators.md does not tell how to create", name, c.Name, ref.Name, ref.Key)
				}
			}
		}
		for _, d := range b.Deployments {
			for _, ann := range []string{AnnAppTokenSecret, AnnAPITokenSecret} {
				secret := d.Spec.Template.Annotations[ann]
				if !strings.Contains(documented, secret) {
					t.Errorf("Deployment %s: token Secret %s (%s) is not in docs/operators.md", d.Name, secret, ann)
				}
			}
		}
		for _, r := range b.Roles {
			for _, rule := range r.Rules {
				for _, s := range rule.ResourceNames {
					if !strings.Contains(documented, "secret generic "+s) {
						t.Errorf("Role %s: Secret %s is not created in docs/operators.md", r.Name, s)
					}
				}
			}
		}
	}
}

// The Deployments run what the code expects: the port it listens on, the
// app ids it calls, and only variables it reads.
func TestDeploymentsMatchServiceCode(t *testing.T) {
	b := renderOverlay(t, "redis")
	for _, svc := range services {
		f := readServiceFacts(t, svc)
		var found bool
		for _, d := range b.Deployments {
			if d.Name != svc {
				continue
			}
			found = true
			if id := d.Spec.Template.Annotations[AnnAppID]; id != svc {
				t.Errorf("Deployment %s: app id %q, want %q (the app ids the code and dapr.yaml use)", svc, id, svc)
			}
			if got := d.Spec.Template.Annotations[AnnAppPort]; got != strconv.Itoa(f.port) {
				t.Errorf("Deployment %s: app port %s, the code's default is %d", svc, got, f.port)
			}
			for _, e := range d.Spec.Template.Spec.Containers[0].Env {
				if e.Name == "GOMEMLIMIT" {
					continue // read by the Go runtime
				}
				def, ok := f.env[e.Name]
				if !ok {
					t.Errorf("Deployment %s sets %s, which %s does not read", svc, e.Name, svc)
				}
				// App ids the code calls must be the Deployments' app ids.
				if strings.HasSuffix(e.Name, "_APP_ID") && e.Value != def {
					t.Errorf("Deployment %s: %s=%q, but the app id is %q", svc, e.Name, e.Value, def)
				}
			}
		}
		if !found {
			t.Errorf("no Deployment %s", svc)
		}
	}
}

// The gateway: ingress-nginx values, the Ingress and the Dapr resources
// agree with each other.
func TestGateway(t *testing.T) {
	v := gatewayValues(t).Controller
	ann := v.PodAnnotations
	for k, want := range map[string]string{
		AnnEnabled:                         "true",
		AnnAppID:                           GatewayAppID,
		AnnConfig:                          "gateway-config",
		AnnLogAsJSON:                       "true",
		AnnEnableMetrics:                   "true",
		AnnDisableBuiltinStore:             "true",
		"dapr.io/sidecar-listen-addresses": "0.0.0.0",
	} {
		if ann[k] != want {
			t.Errorf("ingress-nginx podAnnotations %s=%q, want %q", k, ann[k], want)
		}
	}
	if _, ok := ann[AnnAppPort]; ok {
		t.Errorf("the gateway sidecar has no app: drop %s", AnnAppPort)
	}
	if v.Kind != "Deployment" {
		t.Errorf("ingress-nginx kind %q: the Dapr operator creates gateway-dapr only for a Deployment", v.Kind)
	}
	if !v.Scope.Enabled || v.IngressClassResource.Default || v.AllowSnippetAnnotations {
		t.Errorf("the shop's ingress-nginx must watch its namespace only, not be the default class, and refuse snippets")
	}
	if v.Config["limit-req-status-code"] != "429" {
		t.Errorf("nginx's rate limit must answer 429")
	}

	b := renderOverlay(t, "redis")
	if len(b.Ingresses) != 1 {
		t.Fatalf("%d Ingresses, want 1", len(b.Ingresses))
	}
	ing := b.Ingresses[0]
	if cls := ing.Spec.IngressClassName; cls == nil || *cls != v.IngressClassResource.Name || *cls != v.IngressClass {
		t.Errorf("Ingress class %v, the controller's is %q", cls, v.IngressClassResource.Name)
	}
	var routed []string
	storefront := false
	for _, p := range ing.Spec.Rules[0].HTTP.Paths {
		routed = append(routed, p.Path)
		storefront = storefront || (p.Path == "/" && p.Backend.Service != nil && p.Backend.Service.Name == StorefrontAppID)
	}
	for _, svc := range services {
		if svc != StorefrontAppID && !slices.Contains(routed, "/v1.0/invoke/"+svc+"/method/") {
			t.Errorf("the Ingress does not route to %s", svc)
		}
	}
	// The storefront's pages are served by its own Service, not invoked
	// through the gateway.
	if !storefront {
		t.Errorf("the Ingress does not send / to the storefront's Service")
	}

	rl := b.Component("ratelimit")
	if rl == nil {
		t.Fatal("no ratelimit component")
	}
	if m, _ := rl.Metadata("maxRequestsPerSecond"); m.ValueString() != "100" {
		t.Errorf("maxRequestsPerSecond = %q, want 100", m.ValueString())
	}
	if !slices.Equal(rl.Scopes, []string{GatewayAppID}) {
		t.Errorf("ratelimit scopes %v, want only the gateway", rl.Scopes)
	}
	cfg := b.configuration("gateway-config")
	if cfg == nil || cfg.Spec.HTTPPipeline == nil || len(cfg.Spec.HTTPPipeline.Handlers) != 3 ||
		cfg.Spec.HTTPPipeline.Handlers[0].Type != "middleware.http.invokeproblems" ||
		cfg.Spec.HTTPPipeline.Handlers[1].Type != "middleware.http.ratelimit" ||
		cfg.Spec.HTTPPipeline.Handlers[2].Type != "middleware.http.routerchecker" {
		t.Fatalf("gateway-config must run the problems middleware around the rate limit, then the route check, in its httpPipeline")
	}
	if problems := b.Component("problems"); problems == nil || !slices.Equal(problems.Scopes, []string{GatewayAppID}) {
		t.Errorf("want a problems component (middleware.http.invokeproblems) scoped to the gateway alone")
	}
	// invokeproblems is only in the project's daprd build: the gateway's
	// sidecar must run that image.
	if img := ann[AnnSidecarImage]; !strings.Contains(img, "/shop-daprd:") {
		t.Errorf("ingress-nginx podAnnotations %s=%q, want the project's daprd image (tools/daprd/Dockerfile), which has invokeproblems", AnnSidecarImage, img)
	}
	routes := b.Component("routes")
	if routes == nil {
		t.Fatal("no routes component")
	}
	if !slices.Equal(routes.Scopes, []string{GatewayAppID}) {
		t.Errorf("routes scopes %v, want only the gateway", routes.Scopes)
	}
	m, _ := routes.Metadata("rule")
	rule, err := regexp.Compile(m.ValueString())
	if err != nil {
		t.Fatalf("routes rule %q: %v", m.ValueString(), err)
	}
	// What the gateway must serve, and what it must refuse (the request URI
	// as the middleware sees it).
	for uri, want := range map[string]bool{
		"/v1.0/healthz":          true,
		"/v1.0/healthz/outbound": true,
		"/v1.0/invoke/inventorysvc/method/products?limit=5": true,
		"/v1.0/invoke/ordersvc/method/orders":               true,
		"/v1.0/invoke/usersvc/method/.well-known/jwks.json": true,
		"/v1.0/invoke/http://127.0.0.1:15672/method/api":    false,
		"/v1.0/invoke/http:%2F%2F127.0.0.1:8080/method/x":   false,
		"/v1.0/invoke/ordersvc-other/method/orders":         false,
		"/v1.0/invoke/devbroker/method/x":                   false,
		"/v1.0/invoke/ordersvc.shop/method/orders":          false,
		"/orders":                    false,
		"/v1.0/state/orders-state/k": false,
		"/v1.0/shutdown":             false,
		"/v1.0/healthzX":             false,
		"/v1.0/invoke/inventorysvc/method/products/caf%C3%A9":    true,
		"/v1.0/invoke/inventorysvc/method/products/a%e2%80%8bb":  true,
		"/v1.0/invoke/inventorysvc/method/products/%F0%9F%98%80": true,
		"/v1.0/invoke/inventorysvc/method/products/%C0%AF":       false,
		"/v1.0/invoke/inventorysvc/method/products/%ED%A0%80":    false,
		"/v1.0/invoke/inventorysvc/method/products/%E2%80":       false,
		"/V1.0/invoke/inventorysvc/method/products":              false,
		"/v1.0/invoke/INVENTORYSVC/method/products":              false,
		"/v1.0/invoke/ordersvc/method/orders/o1%2Fx?page=2":      true,
		"/v1.0/invoke/usersvc/method/users/%00":                  false,
		"/v1.0/invoke/usersvc/method/users/a%0Ab":                false,
		"/v1.0/invoke/usersvc/method/users/%7F":                  false,
		"/v1.0/invoke/usersvc/method/users/%FF%FE":               false,
		"/v1.0/invoke/usersvc/method/users/caf\xc3\xa9":          false,
	} {
		if got := rule.MatchString(uri); got != want {
			t.Errorf("routes rule on %s = %v; want %v", uri, got, want)
		}
	}
	if cfg.Spec.API == nil || len(cfg.Spec.API.Allowed) == 0 {
		t.Fatalf("gateway-config must allow only the invoke API")
	}
	// HTTP: invoke only. gRPC: one entry that can do nothing on the
	// gateway (no lock store), since daprd leaves the whole gRPC API open
	// when the allowlist has no gRPC entry, and gRPC invoke reaches any URL.
	var grpcRules int
	for _, r := range cfg.Spec.API.Allowed {
		switch {
		case r.Protocol == "http" && r.Name == "invoke":
		case r.Protocol == "grpc" && r.Name == "lock":
			grpcRules++
		default:
			t.Errorf("gateway-config allows API %s over %s; the gateway serves HTTP invocation only", r.Name, r.Protocol)
		}
	}
	if grpcRules == 0 {
		t.Errorf("gateway-config has no gRPC entry in its API allowlist: daprd then serves the whole gRPC API")
	}
	// Nothing the gateway might read: no component but its three middlewares.
	for _, c := range b.Components {
		if c.Name != "ratelimit" && c.Name != "routes" && c.Name != "problems" && slices.Contains(c.Scopes, GatewayAppID) {
			t.Errorf("component %s is scoped to the gateway", c.Name)
		}
	}
}

// The resiliency the design asks for: ordersvc -> inventorysvc has a timeout,
// retries and a circuit breaker; so has publishing; the gateway's sidecar
// retries only what Dapr's built-in policy retries, failures to reach a
// sidecar, never an app's answer (a client's POST must not be repeated on
// its behalf), and has no circuit breaker (Dapr's counts a client's 4xx as
// a failure).
func TestResiliency(t *testing.T) {
	b := renderOverlay(t, "redis")
	if len(b.Resiliencies) != 2 {
		t.Fatalf("%d Resiliency resources, want 2 (the apps', the gateway's)", len(b.Resiliencies))
	}
	var apps, gateway *Resiliency
	for i, r := range b.Resiliencies {
		switch {
		case slices.Equal(r.Scopes, []string{GatewayAppID}):
			gateway = &b.Resiliencies[i]
		case slices.Contains(r.Scopes, "ordersvc") && !slices.Contains(r.Scopes, GatewayAppID):
			apps = &b.Resiliencies[i]
		}
	}
	if apps == nil || gateway == nil {
		t.Fatalf("want one Resiliency scoped to the apps (ordersvc among them, not the gateway) and one to the gateway alone; got %d", len(b.Resiliencies))
	}
	inv, ok := apps.Spec.Targets.Apps["inventorysvc"]
	if !ok || inv.Timeout == "" || inv.Retry == "" || inv.CircuitBreaker == "" {
		t.Errorf("target app inventorysvc = %+v, want a timeout, a retry and a circuit breaker", inv)
	}
	ps, ok := apps.Spec.Targets.Components["pubsub"]
	if !ok || ps.Outbound.CircuitBreaker == "" || ps.Outbound.Retry == "" || ps.Outbound.Timeout == "" || ps.Inbound.Retry == "" {
		t.Errorf("target component pubsub = %+v, want outbound timeout/retry/circuit breaker and inbound retry", ps)
	}
	if rt := apps.Spec.Policies.Retries[inv.Retry]; rt.Policy != "exponential" {
		t.Errorf("invocation retry policy %q, want exponential backoff", rt.Policy)
	}

	// The gateway's: Dapr's built-in invocation retries (failures to reach
	// a sidecar only) made quick, and no app target (with one, daprd
	// retries an app's answers, and keeps a broken connection to a sidecar).
	if rt, ok := gateway.Spec.Policies.Retries["DaprBuiltInServiceRetries"]; !ok || rt.Policy != "constant" || rt.Duration != "100ms" {
		t.Errorf("gateway: DaprBuiltInServiceRetries = %+v; want constant, 100ms apart", rt)
	}
	if len(gateway.Spec.Targets.Apps) != 0 || len(gateway.Spec.Policies.CircuitBreakers) != 0 {
		t.Errorf("gateway: targets %+v, circuit breakers %+v; want none", gateway.Spec.Targets.Apps, gateway.Spec.Policies.CircuitBreakers)
	}
}
