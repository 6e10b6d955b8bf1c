package validate

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Paths, from this package's folder.
var (
	k8sDir  = filepath.Join("..")
	repoDir = filepath.Join("..", "..")
)

// overlays are the infrastructure profiles, with the Dapr component types
// each must run.
var overlays = map[string]map[string]string{
	"redis": {
		"users-state": "state.redis", "orders-state": "state.redis", "inventory-state": "state.redis",
		"pubsub": "pubsub.redis", "secretstore": "secretstores.kubernetes", "ratelimit": "middleware.http.ratelimit", "routes": "middleware.http.routerchecker", "problems": "middleware.http.invokeproblems",
		"saga-timeout": "bindings.cron",
	},
	"postgres-rabbitmq": {
		"users-state": "state.postgresql", "orders-state": "state.postgresql", "inventory-state": "state.postgresql",
		"pubsub": "pubsub.rabbitmq", "secretstore": "secretstores.kubernetes", "ratelimit": "middleware.http.ratelimit", "routes": "middleware.http.routerchecker", "problems": "middleware.http.invokeproblems",
		"saga-timeout": "bindings.cron",
	},
	"kafka": {
		"users-state": "state.redis", "orders-state": "state.redis", "inventory-state": "state.redis",
		"pubsub": "pubsub.kafka", "secretstore": "secretstores.kubernetes", "ratelimit": "middleware.http.ratelimit", "routes": "middleware.http.routerchecker", "problems": "middleware.http.invokeproblems",
		"saga-timeout": "bindings.cron",
	},
}

// services are the shop's apps: their module folders and app ids (the
// storefront's pages are one too).
var services = []string{"usersvc", "inventorysvc", "ordersvc", StorefrontAppID}

func overlayNames() []string {
	var names []string
	for n := range overlays {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// renderDir renders a kustomization on disk, decodes it strictly and fails
// the test on any error.
func renderDir(t *testing.T, dir string) *Bundle {
	t.Helper()
	objs, err := Render(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Decode(objs)
	if err != nil {
		t.Fatalf("decode %s:\n%v", dir, err)
	}
	return b
}

func renderOverlay(t *testing.T, name string) *Bundle {
	t.Helper()
	return renderDir(t, filepath.Join(k8sDir, "overlays", name))
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ingressNginxValues is the part of the ingress-nginx chart's values that the
// shop sets (k8s/base/gateway/ingress-nginx-values.yaml), decoded strictly so
// that a misspelt key fails.
type ingressNginxValues struct {
	Controller struct {
		IngressClass         string `json:"ingressClass"`
		IngressClassByName   bool   `json:"ingressClassByName"`
		IngressClassResource struct {
			Name            string `json:"name"`
			Enabled         bool   `json:"enabled"`
			Default         bool   `json:"default"`
			ControllerValue string `json:"controllerValue"`
		} `json:"ingressClassResource"`
		ElectionID string `json:"electionID"`
		Scope      struct {
			Enabled bool `json:"enabled"`
		} `json:"scope"`
		AllowSnippetAnnotations bool              `json:"allowSnippetAnnotations"`
		Kind                    string            `json:"kind"`
		ReplicaCount            int               `json:"replicaCount"`
		MinAvailable            int               `json:"minAvailable"`
		Config                  map[string]string `json:"config"`
		Service                 struct {
			ExternalTrafficPolicy string `json:"externalTrafficPolicy"`
		} `json:"service"`
		PodAnnotations map[string]string `json:"podAnnotations"`
	} `json:"controller"`
}

func gatewayValues(t *testing.T) ingressNginxValues {
	t.Helper()
	var v ingressNginxValues
	path := filepath.Join(k8sDir, "base", "gateway", "ingress-nginx-values.yaml")
	if err := StrictYAML(readFile(t, path), &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// external is the sidecar outside the manifests: the gateway in ingress-nginx.
func external(t *testing.T) map[string]string {
	t.Helper()
	ann := gatewayValues(t).Controller.PodAnnotations
	return map[string]string{ann[AnnAppID]: ann[AnnConfig]}
}

// serviceFacts are what a service's code reads from its environment: the
// variable names, the default of each, and its default port.
type serviceFacts struct {
	env      map[string]string // name -> default ("" when none is written)
	port     int
	fileRead []string
}

var (
	settingRE = regexp.MustCompile(`src\.(?:String|Int|Bool|Duration)\("([A-Z0-9_]+)",\s*("?[^,)]*"?)`)
	portRE    = regexp.MustCompile(`service\.LoadSettings\(src,\s*(\d+)\)`)
)

// readServiceFacts scans the service's config.go and the shared settings of
// platform/service for the variables they read.
func readServiceFacts(t *testing.T, svc string) serviceFacts {
	t.Helper()
	f := serviceFacts{env: map[string]string{}}
	for _, p := range []string{
		filepath.Join(repoDir, svc, "config.go"),
		filepath.Join(repoDir, "platform", "service", "service.go"),
	} {
		src := string(readFile(t, p))
		f.fileRead = append(f.fileRead, p)
		for _, m := range settingRE.FindAllStringSubmatch(src, -1) {
			def, err := strconv.Unquote(m[2])
			if err != nil {
				def = ""
			}
			f.env[m[1]] = def
		}
		if m := portRE.FindStringSubmatch(src); m != nil {
			f.port, _ = strconv.Atoi(m[1])
		}
	}
	if f.port == 0 || len(f.env) < 5 {
		t.Fatalf("%s: found port %d and %d settings in %v; has the settings code changed shape?", svc, f.port, len(f.env), f.fileRead)
	}
	return f
}
