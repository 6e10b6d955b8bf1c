package validate

import (
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// renderMemory renders a kustomization written into an in-memory file system.
func renderMemory(t *testing.T, files map[string]string) []Object {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	for name, text := range files {
		if err := fsys.WriteFile(filepath.Join("/app", name), []byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	objs, err := Render(fsys, "/app")
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

const kustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - object.yaml
`

// A misspelt or unknown field anywhere fails decoding, in the Kubernetes
// types and in the Dapr schema alike; so does a key in the wrong case.
func TestStrictDecodingRejectsMisspeltFields(t *testing.T) {
	tests := []struct {
		name, object, field string
	}{
		{"Deployment containers", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels: {app: x}
  template:
    metadata:
      labels: {app: x}
    spec:
      containres:
        - name: app
          image: app:1
`, "containres"},
		{"probe field in the wrong case", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels: {app: x}
  template:
    metadata:
      labels: {app: x}
    spec:
      containers:
        - name: app
          image: app:1
          readinessprobe:
            httpGet: {path: /readyz, port: 8080}
`, "readinessprobe"},
		{"Service port", `apiVersion: v1
kind: Service
metadata:
  name: app
spec:
  ports:
    - prot: 80
`, "prot"},
		{"Component scopes", `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: users-state
spec:
  type: state.redis
  version: v1
  metadata: []
scope:
  - usersvc
`, "scope"},
		{"Component secretKeyRef", `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: users-state
spec:
  type: state.redis
  version: v1
  metadata:
    - name: redisPassword
      secretKeyref: {name: shop-redis, key: redisPassword}
scopes: [usersvc]
`, "secretKeyref"},
		{"Configuration accessControl", `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: app-config
spec:
  accesControl:
    defaultAction: deny
`, "accesControl"},
		{"Configuration policy", `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: app-config
spec:
  accessControl:
    defaultAction: deny
    policies:
      - appID: gateway
`, "appID"},
		{"Resiliency retries", `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: r
spec:
  policies:
    retries:
      r1: {policy: constant, duration: 1s, maxRetry: 3}
  targets: {}
`, "maxRetry"},
	}
	for _, tt := range tests {
		objs := renderMemory(t, map[string]string{"kustomization.yaml": kustomization, "object.yaml": tt.object})
		_, err := Decode(objs)
		if err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: Decode error = %v; want one naming %q", tt.name, err, tt.field)
		}
	}
}

// A kind the shop does not expect is refused: a Secret above all.
func TestSecretsAreRefused(t *testing.T) {
	objs := renderMemory(t, map[string]string{"kustomization.yaml": kustomization, "object.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: shop-redis
stringData:
  redisPassword: hunter2
`})
	if _, err := Decode(objs); err == nil || !strings.Contains(err.Error(), "kind Secret is not expected") {
		t.Errorf("Decode of a Secret: %v; want it refused", err)
	}
}

// A Deployment without one of its Dapr annotations renders and decodes, and
// the check names what is missing.
func TestMissingAnnotationIsReported(t *testing.T) {
	dep := string(readFile(t, filepath.Join(k8sDir, "base", "usersvc", "deployment.yaml")))
	const line = "        dapr.io/config: usersvc-config\n"
	if !strings.Contains(dep, line) {
		t.Fatalf("usersvc/deployment.yaml no longer has %q; update this test", line)
	}
	objs := renderMemory(t, map[string]string{
		"kustomization.yaml": kustomization,
		"object.yaml":        strings.Replace(dep, line, "", 1),
	})
	b, err := Decode(objs)
	if err != nil {
		t.Fatal(err)
	}
	err = CheckDeployment(b.Deployments[0])
	if err == nil || !strings.Contains(err.Error(), "annotation dapr.io/config is missing") {
		t.Errorf("CheckDeployment = %v; want the missing dapr.io/config reported", err)
	}
	// And the unchanged Deployment passes.
	objs = renderMemory(t, map[string]string{"kustomization.yaml": kustomization, "object.yaml": dep})
	if b, err = Decode(objs); err != nil {
		t.Fatal(err)
	}
	if err := CheckDeployment(b.Deployments[0]); err != nil {
		t.Errorf("CheckDeployment of base/usersvc/deployment.yaml: %v", err)
	}
}

// Each rule fails when the manifests break it: every case changes one thing
// in the rendered redis overlay and expects the error it must cause.
func TestChecksCatchMistakes(t *testing.T) {
	objs, err := Render(filesys.MakeFsOnDisk(), filepath.Join(k8sDir, "overlays", "redis"))
	if err != nil {
		t.Fatal(err)
	}
	ext := external(t)
	fresh := func() *Bundle {
		b, err := Decode(objs)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if err := fresh().Check(ext); err != nil {
		t.Fatalf("the unchanged overlay fails: %v", err)
	}
	app := func(b *Bundle) *corev1.Container { return &b.Deployments[0].Spec.Template.Spec.Containers[0] }
	f := false
	root := int64(0)
	tests := []struct {
		name   string
		change func(b *Bundle)
		want   string
	}{
		{"annotation removed", func(b *Bundle) { delete(b.Deployments[0].Spec.Template.Annotations, AnnEnableAppHealth) },
			"annotation dapr.io/enable-app-health-check is missing"},
		{"app port differs", func(b *Bundle) { b.Deployments[0].Spec.Template.Annotations[AnnAppPort] = "9999" },
			"dapr.io/app-port=\"9999\""},
		{"sidecar limit below request", func(b *Bundle) { b.Deployments[0].Spec.Template.Annotations[AnnMemoryLimit] = "1Mi" },
			"sidecar memory request"},
		{"no readiness probe", func(b *Bundle) { app(b).ReadinessProbe = nil }, "has no readinessProbe"},
		{"liveness on /readyz", func(b *Bundle) { app(b).LivenessProbe.HTTPGet.Path = "/readyz" }, "livenessProbe path \"/readyz\""},
		{"writable root", func(b *Bundle) { app(b).SecurityContext.ReadOnlyRootFilesystem = &f }, "readOnlyRootFilesystem"},
		{"root user", func(b *Bundle) { app(b).SecurityContext.RunAsUser = &root }, "runs as user 0"},
		{"capabilities kept", func(b *Bundle) { app(b).SecurityContext.Capabilities = nil }, "drop ALL"},
		{"no seccomp", func(b *Bundle) {
			b.Deployments[0].Spec.Template.Spec.SecurityContext.SeccompProfile = nil
		}, "seccompProfile"},
		{"no memory limit", func(b *Bundle) { delete(app(b).Resources.Limits, corev1.ResourceMemory) }, "no memory limit"},
		{"default service account", func(b *Bundle) { b.Deployments[0].Spec.Template.Spec.ServiceAccountName = "" }, "default service account"},
		{"app token not passed", func(b *Bundle) {
			app(b).Env = app(b).Env[:1]
		}, "APP_API_TOKEN must come from Secret"},
		{"API token not passed", func(b *Bundle) {
			env := app(b).Env[:0]
			for _, e := range app(b).Env {
				if e.Name != "DAPR_API_TOKEN" {
					env = append(env, e)
				}
			}
			app(b).Env = env
		}, "DAPR_API_TOKEN must come from Secret"},
		{"one Secret for both tokens", func(b *Bundle) {
			a := b.Deployments[0].Spec.Template.Annotations
			a[AnnAPITokenSecret] = a[AnnAppTokenSecret]
		}, "name the same Secret"},
		{"app listens on loopback", func(b *Bundle) {
			env := app(b).Env[:0]
			for _, e := range app(b).Env {
				if e.Name != "APP_LISTEN_ADDRESS" {
					env = append(env, e)
				}
			}
			app(b).Env = env
		}, "APP_LISTEN_ADDRESS"},
		{"no PDB", func(b *Bundle) { b.PDBs = b.PDBs[1:] }, "0 PodDisruptionBudgets"},
		{"no autoscaler", func(b *Bundle) { b.HPAs = b.HPAs[1:] }, "0 HorizontalPodAutoscalers"},
		{"autoscaler from one pod", func(b *Bundle) { one := int32(1); b.HPAs[0].Spec.MinReplicas = &one }, "minReplicas must be at least 2"},
		{"autoscaler with no room", func(b *Bundle) { b.HPAs[0].Spec.MaxReplicas = *b.HPAs[0].Spec.MinReplicas }, "leaves nothing to scale"},
		{"PDB blocks a drain", func(b *Bundle) { all := intstr.FromString("100%"); b.PDBs[0].Spec.MinAvailable = &all }, "allows no pod"},
		{"pods not spread", func(b *Bundle) { b.Deployments[0].Spec.Template.Spec.TopologySpreadConstraints = nil }, "topologySpreadConstraint"},
		{"unknown Configuration", func(b *Bundle) { b.Deployments[0].Spec.Template.Annotations[AnnConfig] = "nope" },
			"Configuration \"nope\""},
		{"inline password", func(b *Bundle) {
			c := b.Component("users-state")
			c.Spec.Metadata[1].SecretKeyRef = nil
			c.Spec.Metadata[1].Value = []byte(`"hunter2"`)
		}, "metadata redisPassword is sensitive"},
		{"inline host", func(b *Bundle) {
			c := b.Component("pubsub")
			c.Spec.Metadata[0].SecretKeyRef = nil
			c.Spec.Metadata[0].Value = []byte(`"redis:6379"`)
		}, "metadata redisHost is sensitive"},
		{"credentials in a URL", func(b *Bundle) {
			c := b.Component("pubsub")
			c.Spec.Metadata = append(c.Spec.Metadata, MetadataItem{Name: "queueName", Value: []byte(`"amqp://guest:guest@rabbit"`)})
		}, "holds credentials in its value"},
		{"state store shared", func(b *Bundle) {
			c := b.Component("orders-state")
			c.Scopes = append(c.Scopes, "inventorysvc")
		}, "a state store belongs to one app"},
		{"component unscoped", func(b *Bundle) { b.Component("pubsub").Scopes = nil }, "has no scopes"},
		{"unknown scope", func(b *Bundle) { b.Component("secretstore").Scopes = []string{"usersvc", "userssvc"} }, "scope \"userssvc\""},
		{"secret store other than kubernetes", func(b *Bundle) {
			b.Component("users-state").Auth = &ComponentAuth{SecretStore: "secretstore"}
		}, "resolves secretKeyRefs only from"},
		{"component twice", func(b *Bundle) { b.Components = append(b.Components, *b.Component("pubsub")) }, "Component pubsub is defined 2 times"},
		{"mtls off", func(b *Bundle) { b.configuration("ordersvc-config").Spec.MTLS.Enabled = &f }, "mtls.enabled must be true"},
		{"access allowed by default", func(b *Bundle) {
			b.configuration("ordersvc-config").Spec.AccessControl.DefaultAction = "allow"
		}, "accessControl.defaultAction must be deny"},
		{"policy in another namespace", func(b *Bundle) {
			b.configuration("ordersvc-config").Spec.AccessControl.Policies[0].Namespace = "default"
		}, "namespace \"default\", but the shop runs in \"shop\""},
		{"shadowed exception", func(b *Bundle) {
			p := &b.configuration("inventorysvc-config").Spec.AccessControl.Policies[0]
			p.Operations[0], p.Operations[1] = p.Operations[1], p.Operations[0]
		}, "/products/lookup: a request for /products/lookup is decided by /products/**"},
		{"api rule without protocol", func(b *Bundle) {
			b.configuration("gateway-config").Spec.API.Allowed[0].Protocol = ""
		}, "protocol must be http or grpc"},
		{"middleware not scoped to the gateway", func(b *Bundle) { b.Component("ratelimit").Scopes = []string{"usersvc"} },
			"middleware ratelimit is not scoped to gateway"},
		{"resiliency names a missing policy", func(b *Bundle) {
			t := b.Resiliencies[0].Spec.Targets.Apps["inventorysvc"]
			t.Retry = "nope"
			b.Resiliencies[0].Spec.Targets.Apps["inventorysvc"] = t
		}, "no retry policy \"nope\""},
		{"unbounded retries", func(b *Bundle) {
			r := b.Resiliencies[0].Spec.Policies.Retries["invokeRetry"]
			r.MaxRetries = nil
			b.Resiliencies[0].Spec.Policies.Retries["invokeRetry"] = r
		}, "maxRetries must be set"},
		{"Ingress exposes the whole sidecar API", func(b *Bundle) {
			b.Ingresses[0].Spec.Rules[0].HTTP.Paths[0].Path = "/"
		}, "path / must be a Prefix to Service storefront port 80"},
		{"Ingress exposes the sidecar's other APIs", func(b *Bundle) {
			b.Ingresses[0].Spec.Rules[0].HTTP.Paths[0].Path = "/v1.0/"
		}, "is not /v1.0/invoke/<app>/method/"},
		{"Ingress invokes the storefront through the gateway", func(b *Bundle) {
			b.Ingresses[0].Spec.Rules[0].HTTP.Paths[0].Path = "/v1.0/invoke/storefront/method/"
		}, "the Ingress routes invocations of the storefront"},
		{"Role reads any Secret", func(b *Bundle) { b.Roles[0].Rules[0].ResourceNames = nil }, "Secrets may only be read (get) by name"},
	}
	for _, tt := range tests {
		b := fresh()
		tt.change(b)
		err := b.Check(ext)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Check() = %v\nwant an error containing %q", tt.name, err, tt.want)
		}
	}
}
