// Package harness starts a whole system for end-to-end tests: the three
// services, their Dapr sidecars, the gateway sidecar and, where the profile
// needs it, the development Kafka broker, all on free ports and with app ids
// of their own, so that a test run never answers a developer's running
// system (self-hosted Dapr resolves app ids machine-wide with mDNS).
//
// Like the run file, a run is closed by default: every process listens on
// 127.0.0.1, each app and its sidecar get fresh APP_API_TOKEN and
// DAPR_API_TOKEN values, and the run has secrets of its own (a new signing
// key and admin password, exposed to the tests as AdminEmail,
// AdminPassword and SigningKey).
//
// Tests drive the system only through the gateway, as a client would. A
// package starts one system in TestMain and shares it between its tests.
package harness

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DaprdVersion is the Dapr runtime the project pins.
const DaprdVersion = "1.18.2"

// Services are the app ids of the system, as written in components/ and
// dapr.yaml; a run gives each of them a suffix.
var Services = []string{"usersvc", "inventorysvc", "ordersvc"}

// Options chooses what to start.
type Options struct {
	// Profile is a folder of components/ (default "local", or $E2E_PROFILE).
	Profile string
	// Root is the repository root (default: found from the working directory).
	Root string
	// Daprd is the daprd binary (default $DAPRD, else ~/.dapr/bin/daprd).
	Daprd string
	// Env adds variables to every app's environment.
	Env map[string]string
	// ReadyTimeout bounds start-up (default 2 minutes).
	ReadyTimeout time.Duration
	// GatewayRateLimit, when positive, replaces the gateway's rate limit
	// (maxRequestsPerSecond of components/gateway/ratelimit.yaml, requests
	// per second per client address) in this run's rendered copy. A
	// benchmark raises it so that the limit does not cap its load.
	GatewayRateLimit int
	// Profiling serves Go's profiles of every app (PPROF_ADDR) and every
	// sidecar (daprd --enable-profiling), on loopback ports that
	// ProfileURL names.
	Profiling bool
	// OTLPEndpoint is where the sidecars and the apps export their spans
	// (OTLP/HTTP, a base URL such as http://127.0.0.1:4318); empty exports
	// none (telemetry.go).
	OTLPEndpoint string
	// TraceSampling replaces the sidecars' samplingRate ("1": every
	// request, "0": none); empty keeps components/config's.
	TraceSampling string
	// Replicas is how many instances of a service to start (default one
	// each, or $E2E_REPLICAS, e.g. "ordersvc=3,inventorysvc=2"): the same
	// app id, each with its own sidecar. Replica 1 of ordersvc is process
	// "ordersvc" (sidecar "ordersvc-dapr"), replica k > 1 is "ordersvc-k"
	// (sidecar "ordersvc-k-dapr"); see Replicas and Kill.
	Replicas map[string]int
	// BrokerProxy puts a TCP proxy (System.Broker) between the sidecars
	// and the profile's pub/sub server (Redis or RabbitMQ), so that a test
	// can cut the broker off without stopping a server that other runs
	// share. Only the pub/sub connections go through it.
	BrokerProxy bool
	// Storefront starts the storefront and its sidecar too (StorefrontURL).
	Storefront bool
}

// System is a running system.
type System struct {
	// Gateway is the base URL of the gateway sidecar's HTTP API.
	Gateway string
	// AppIDs maps each name of Services to its app id in this run.
	AppIDs map[string]string
	// AdminEmail and AdminPassword sign in the admin account the run's
	// fresh secrets bootstrap.
	AdminEmail, AdminPassword string
	// SigningKey is the PEM private key of this run's access tokens.
	SigningKey string
	// Broker is the proxy in front of the pub/sub server when
	// Options.BrokerProxy asked for one, else nil.
	Broker *Proxy

	opts   Options
	suffix string // of this run's app ids and topics
	dir    string // scratch folder: binaries, rendered resources, logs
	mu     sync.Mutex
	procs  map[string]*process
	order  []string // start order; stopped in reverse
}

type process struct {
	name      string
	grpcPort  int    // a sidecar's gRPC API port
	daprToken string // a sidecar's DAPR_API_TOKEN
	cmd       *exec.Cmd
	args      []string
	env       []string
	log       string
	done      chan struct{}
	port      int  // the port that answers when it is up (health checks)
	killed    bool // stopped by Kill, not on its own
	pprof     int  // where it serves Go profiles (Options.Profiling), or 0
}

// Start builds the services and starts a system for opts.Profile. On error
// it stops whatever it started and includes the logs in the error.
func Start(ctx context.Context, opts Options) (*System, error) {
	opts, err := opts.complete(ctx)
	if err != nil {
		return nil, err
	}
	// Free ports are picked before the processes bind them, so another
	// program can take one in between; a start that fails is tried again
	// with new ports.
	var errs []error
	for attempt := 0; attempt < 3; attempt++ {
		dir, err := os.MkdirTemp("", "shop-e2e-")
		if err != nil {
			return nil, err
		}
		s := &System{opts: opts, dir: dir, procs: map[string]*process{}, AppIDs: map[string]string{}}
		err = s.start(ctx)
		if err == nil {
			return s, nil
		}
		errs = append(errs, fmt.Errorf("attempt %d: %w\n%s", attempt+1, err, s.Logs()))
		s.Stop()
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// complete fills in the defaults of opts and checks that daprd and the
// profile are there.
func (opts Options) complete(ctx context.Context) (Options, error) {
	if opts.Profile == "" {
		opts.Profile = os.Getenv("E2E_PROFILE")
	}
	if opts.Profile == "" {
		opts.Profile = "local"
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 2 * time.Minute
	}
	if opts.Replicas == nil {
		r, err := ParseReplicas(os.Getenv("E2E_REPLICAS"))
		if err != nil {
			return opts, fmt.Errorf("E2E_REPLICAS: %w", err)
		}
		opts.Replicas = r
	}
	if opts.Root == "" {
		root, err := findRoot()
		if err != nil {
			return opts, err
		}
		opts.Root = root
	}
	if opts.Daprd == "" {
		opts.Daprd = os.Getenv("DAPRD")
	}
	if opts.Daprd == "" {
		home, _ := os.UserHomeDir()
		opts.Daprd = filepath.Join(home, ".dapr", "bin", "daprd")
	}
	if out, err := exec.CommandContext(ctx, opts.Daprd, "--version").Output(); err != nil || strings.TrimSpace(string(out)) != DaprdVersion {
		return opts, fmt.Errorf("daprd %s not found at %s (got %q, %v): run scripts/setup.sh first", DaprdVersion, opts.Daprd, strings.TrimSpace(string(out)), err)
	}
	if _, err := os.Stat(filepath.Join(opts.Root, "components", opts.Profile)); err != nil {
		return opts, fmt.Errorf("unknown profile %q: no folder components/%s", opts.Profile, opts.Profile)
	}
	return opts, nil
}

func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "dapr.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (the folder with dapr.yaml) not found above the working directory")
		}
		dir = parent
	}
}

func (s *System) start(ctx context.Context) error {
	s.suffix = strconv.FormatInt(time.Now().UnixNano()%1e9, 36) + strconv.Itoa(os.Getpid()%1000)
	for _, svc := range append([]string{"gateway"}, Services...) {
		s.AppIDs[svc] = svc + "-" + s.suffix
	}
	if err := s.build(ctx); err != nil {
		return err
	}
	secrets, err := s.freshSecrets()
	if err != nil {
		return err
	}
	if s.usesDevBroker() {
		addr, err := s.startBroker(ctx)
		if err != nil {
			return err
		}
		secrets["kafka-brokers"] = addr
	}
	if s.opts.BrokerProxy {
		if err := s.proxyBroker(secrets); err != nil {
			return err
		}
	}
	resources, err := s.renderResources(secrets)
	if err != nil {
		return err
	}
	appEnv := []string{
		"USERS_APP_ID=" + s.AppIDs["usersvc"],
		"INVENTORY_APP_ID=" + s.AppIDs["inventorysvc"],
		"ORDERS_APP_ID=" + s.AppIDs["ordersvc"],
	}
	for _, topic := range Topics {
		appEnv = append(appEnv, strings.ToUpper(topic)+"_TOPIC="+s.Topic(topic))
	}
	for k, v := range s.opts.Env {
		appEnv = append(appEnv, k+"="+v)
	}
	for _, svc := range Services {
		for _, name := range s.Replicas(svc) {
			appPort, httpPort, grpcPort := freePort(), freePort(), freePort()
			// Fresh tokens for each app and run, as rundaprd gives the run file's.
			appToken, daprToken := randomToken(), randomToken()
			tokens := []string{"APP_API_TOKEN=" + appToken, "DAPR_API_TOKEN=" + daprToken}
			config, err := s.sidecarConfig(svc)
			if err != nil {
				return err
			}
			sidecar := &process{name: name + "-dapr", port: httpPort, grpcPort: grpcPort, daprToken: daprToken, env: tokens,
				args: s.daprdArgs(s.AppIDs[svc], httpPort, grpcPort, appPort, config, resources["app"])}
			s.profile(sidecar)
			if err := s.launch(sidecar); err != nil {
				return err
			}
			env := append([]string{
				fmt.Sprintf("APP_PORT=%d", appPort),
				fmt.Sprintf("DAPR_HTTP_PORT=%d", httpPort),
				fmt.Sprintf("DAPR_GRPC_PORT=%d", grpcPort),
			}, append(tokens, appEnv...)...)
			env = append(env, s.telemetryEnv()...)
			app := &process{name: name, port: appPort, env: env, args: []string{filepath.Join(s.dir, "bin", svc)}}
			s.profile(app)
			if err := s.launch(app); err != nil {
				return err
			}
		}
	}
	gwHTTP, gwGRPC := freePort(), freePort()
	gwConfig, err := s.sidecarConfig("gateway")
	if err != nil {
		return err
	}
	gateway := &process{name: "gateway-dapr", port: gwHTTP, grpcPort: gwGRPC, args: s.daprdArgs(s.AppIDs["gateway"], gwHTTP, gwGRPC, 0, gwConfig, resources["gateway"])}
	s.profile(gateway)
	if err := s.launch(gateway); err != nil {
		return err
	}
	s.Gateway = fmt.Sprintf("http://127.0.0.1:%d", gwHTTP)

	ctx, cancel := context.WithTimeout(ctx, s.opts.ReadyTimeout)
	defer cancel()
	var apps []string
	for _, svc := range Services {
		apps = append(apps, s.Replicas(svc)...)
	}
	for _, name := range apps {
		if err := s.waitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/readyz", s.procs[name].port)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	// Every sidecar healthy, not only ready for its app's calls: daprd
	// answers 500 on /v1.0/healthz while a placement or scheduler service
	// it was given cannot be reached.
	for _, name := range append(apps, "gateway") {
		if err := s.waitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/v1.0/healthz", s.procs[name+"-dapr"].port)); err != nil {
			return fmt.Errorf("%s-dapr: %w", name, err)
		}
	}
	// Ready once the gateway resolves and reaches every app.
	for _, svc := range Services {
		if err := s.waitHTTP(ctx, s.InvokeURL(svc, "/healthz")); err != nil {
			return fmt.Errorf("gateway -> %s: %w", svc, err)
		}
	}
	if s.opts.Storefront {
		if err := s.startStorefront(ctx, resources["app"]); err != nil {
			return fmt.Errorf("storefront: %w", err)
		}
	}
	return nil
}

// profile gives p a port to serve Go profiles on when Options.Profiling
// asks for them: daprd's profiling server (on its API listen address,
// loopback) or the app's PPROF_ADDR.
func (s *System) profile(p *process) {
	if !s.opts.Profiling {
		return
	}
	p.pprof = freePort()
	if strings.HasSuffix(p.name, "-dapr") {
		p.args = append(p.args, "--enable-profiling", "--profile-port", strconv.Itoa(p.pprof))
	} else {
		p.env = append(p.env, fmt.Sprintf("PPROF_ADDR=127.0.0.1:%d", p.pprof))
	}
}

// ProfileURL is the base URL of the Go profiles (/debug/pprof/) of process
// name (as Kill names them) when the system was started with
// Options.Profiling, else "".
func (s *System) ProfileURL(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.procs[name]; ok && p.pprof > 0 {
		return fmt.Sprintf("http://127.0.0.1:%d", p.pprof)
	}
	return ""
}

// LogFiles are the log files of the system's processes, by the names Kill
// takes. They are removed by Stop.
func (s *System) LogFiles() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for name, p := range s.procs {
		out[name] = p.log
	}
	return out
}

// MetricsURL is the URL of the Prometheus metrics of sidecar name (as
// Kill names them, for example "ordersvc-dapr"), or "" if name is not a
// sidecar of the system.
func (s *System) MetricsURL(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.procs[name]
	if !ok {
		return ""
	}
	if i := slices.Index(p.args, "--metrics-port"); i >= 0 && i+1 < len(p.args) {
		return "http://127.0.0.1:" + p.args[i+1] + "/metrics"
	}
	return ""
}

// startBroker starts the development Kafka broker on free ports and waits
// until it listens; it returns the broker's Kafka address.
func (s *System) startBroker(ctx context.Context) (string, error) {
	bin := filepath.Join(s.dir, "bin", "devbroker")
	if _, err := os.Stat(bin); err != nil {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./tools/devbroker")
		cmd.Dir = s.opts.Root
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build devbroker: %w\n%s", err, out)
		}
	}
	kafka, health := fmt.Sprintf("127.0.0.1:%d", freePort()), freePort()
	if err := s.launch(&process{name: "devbroker", port: health, args: []string{
		bin, "--kafka-addr", kafka, "--health-addr", fmt.Sprintf("127.0.0.1:%d", health),
	}}); err != nil {
		return "", err
	}
	if err := s.waitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/v1.0/healthz", health)); err != nil {
		return "", fmt.Errorf("devbroker: %w", err)
	}
	return kafka, nil
}

// usesDevBroker reports whether the profile's pub/sub is Kafka, which the
// harness provides with the development broker (kfake), as no Kafka server
// runs here.
func (s *System) usesDevBroker() bool {
	b, err := os.ReadFile(filepath.Join(s.opts.Root, "components", s.opts.Profile, "pubsub.yaml"))
	return err == nil && bytes.Contains(b, []byte("type: pubsub.kafka"))
}

// Topics are the pub/sub topics of the system (docs/events.md).
var Topics = []string{"orders", "inventory", "users"}

// Topic is the name topic has in this run (Publish maps names itself). Each run has topics of its own,
// so that runs sharing a Redis or RabbitMQ server never see each other's
// events (Redis Streams keep old events for new consumer groups).
func (s *System) Topic(topic string) string {
	return topic + "-" + s.suffix
}

func (s *System) build(ctx context.Context) error {
	bin := filepath.Join(s.dir, "bin")
	pkgs := []string{"./usersvc", "./inventorysvc", "./ordersvc", "./tools/devbroker"}
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", bin + "/"}, pkgs...)...)
	cmd.Dir = s.opts.Root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	return nil
}

func (s *System) daprdArgs(appID string, httpPort, grpcPort, appPort int, config string, resources []string) []string {
	args := []string{
		s.opts.Daprd, "--app-id", appID, "--mode", "standalone",
		"--dapr-http-port", strconv.Itoa(httpPort), "--dapr-grpc-port", strconv.Itoa(grpcPort),
		"--dapr-internal-grpc-port", strconv.Itoa(freePort()), "--metrics-port", strconv.Itoa(freePort()),
		"--config", config, "--log-as-json",
		// Every listener on loopback only. No placement or scheduler address:
		// the shop uses no actors, workflows or jobs, and daprd 1.18 reports
		// itself unhealthy while a configured one is unreachable.
		"--dapr-listen-addresses", "127.0.0.1", "--dapr-internal-grpc-listen-address", "127.0.0.1",
		"--metrics-listen-address", "127.0.0.1",
	}
	if appPort > 0 {
		args = append(args, "--app-port", strconv.Itoa(appPort), "--app-protocol", "http")
	}
	for _, r := range resources {
		args = append(args, "--resources-path", r)
	}
	return args
}

// Patterns of the resources that renderResources rewrites for a run.
var (
	// a scope entry, or a resiliency target, naming one of the system's app ids
	scopeLine  = regexp.MustCompile(`(?m)^(\s*-\s*)(gateway|usersvc|inventorysvc|ordersvc)\s*$`)
	targetLine = regexp.MustCompile(`(?m)^(\s+)(usersvc|inventorysvc|ordersvc):\s*$`)
	// a topic named in a subscription
	topicLine = regexp.MustCompile(`(?m)^(\s*(?:value|topic):\s*)(orders|inventory|users)\s*$`)
	// the secret store's file
	secretsFileLine = regexp.MustCompile(`(?m)^(\s*value:\s*)(\.dev/secrets\.json)\s*$`)
	// the gateway's route rule, which names the apps in one group
	appsGroup = regexp.MustCompile(`\(usersvc\|inventorysvc\|ordersvc\)`)
	// the value of a pub/sub component's topic scopes
	topicScopesLine = regexp.MustCompile(`(?m)^(\s*-\s*name:\s*(?:publishingScopes|subscriptionScopes|protectedTopics)\s*\n\s*value:\s*)"([^"]*)"\s*$`)
	// the gateway's rate limit: the value line after its name line
	rateLimitLine = regexp.MustCompile(`(?m)^(\s*-\s*name:\s*maxRequestsPerSecond\s*\n\s*value:\s*)"?\d+"?\s*$`)
	// the Redis server of pubsub.redis: the value line after its name line
	redisHostLine = regexp.MustCompile(`(?m)^(\s*-\s*name:\s*redisHost\s*\n\s*value:\s*)"?([^"\s]+)"?\s*$`)
)

// renameTopics rewrites the value of publishingScopes, subscriptionScopes
// or protectedTopics ("app=topic,topic;app=topic" or "topic,topic") with
// this run's app ids and topics.
func (s *System) renameTopics(value string) string {
	topic := func(t string) string {
		for _, name := range Topics {
			switch t {
			case name:
				return s.Topic(name)
			case name + "-deadletter":
				return s.Topic(name) + "-deadletter"
			}
		}
		return t
	}
	apps := strings.Split(value, ";")
	for i, a := range apps {
		app, topics, scoped := strings.Cut(a, "=")
		if !scoped {
			topics = a
		}
		ts := strings.Split(topics, ",")
		for j := range ts {
			ts[j] = topic(ts[j])
		}
		if scoped {
			if id, ok := s.AppIDs[app]; ok {
				app = id
			}
			apps[i] = app + "=" + strings.Join(ts, ",")
		} else {
			apps[i] = strings.Join(ts, ",")
		}
	}
	return strings.Join(apps, ";")
}

// renderResources copies the profile's resources into the scratch folder
// with this run's app ids in component scopes and topic scopes, this run's
// topic names, and the run's own secrets file. It returns the resource
// folders of the apps and of the gateway.
func (s *System) renderResources(secrets map[string]string) (map[string][]string, error) {
	secretsFile := filepath.Join(s.dir, "secrets.json")
	b, err := json.Marshal(secrets)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(secretsFile, b, 0o600); err != nil {
		return nil, err
	}
	render := func(name string) (string, error) {
		src := filepath.Join(s.opts.Root, "components", name)
		dst := filepath.Join(s.dir, "resources", name)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return "", err
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			return "", err
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				return "", err
			}
			b = scopeLine.ReplaceAll(b, []byte("${1}$2-"+s.suffix))
			b = appsGroup.ReplaceAll(b, []byte("(usersvc-"+s.suffix+"|inventorysvc-"+s.suffix+"|ordersvc-"+s.suffix+")"))
			b = targetLine.ReplaceAll(b, []byte("${1}$2-"+s.suffix+":"))
			b = topicLine.ReplaceAll(b, []byte("${1}$2-"+s.suffix))
			b = secretsFileLine.ReplaceAll(b, []byte("${1}"+secretsFile))
			b = topicScopesLine.ReplaceAllFunc(b, func(m []byte) []byte {
				sub := topicScopesLine.FindSubmatch(m)
				return []byte(string(sub[1]) + `"` + s.renameTopics(string(sub[2])) + `"`)
			})
			if e.Name() == "pubsub.yaml" && s.Broker != nil {
				b = redisHostLine.ReplaceAll(b, []byte(`${1}"`+s.Broker.Addr+`"`))
			}
			if name == "gateway" && e.Name() == "ratelimit.yaml" && s.opts.GatewayRateLimit > 0 {
				if !rateLimitLine.Match(b) {
					return "", fmt.Errorf("%s: no maxRequestsPerSecond value to replace", e.Name())
				}
				b = rateLimitLine.ReplaceAll(b, []byte(fmt.Sprintf(`${1}"%d"`, s.opts.GatewayRateLimit)))
			}
			if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
				return "", err
			}
		}
		return dst, nil
	}
	out := map[string][]string{}
	for kind, folders := range map[string][]string{"app": {"common", s.opts.Profile}, "gateway": {"gateway"}} {
		for _, f := range folders {
			dst, err := render(f)
			if err != nil {
				return nil, fmt.Errorf("render components/%s: %w", f, err)
			}
			out[kind] = append(out[kind], dst)
		}
	}
	return out, nil
}

// freshSecrets returns the secrets of a new run: a new signing key and
// admin password (never the developer's), and the durable profiles'
// connection settings from the environment or their local defaults, as
// tools/devsecrets writes them for the run file.
func (s *System) freshSecrets() (map[string]string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	s.SigningKey = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	s.AdminEmail, s.AdminPassword = "admin-"+s.suffix+"@shop.test", randomToken()
	secrets := map[string]string{
		"jwt-signing-key":            s.SigningKey,
		"jwt-previous-signing-key":   "",
		"admin-email":                s.AdminEmail,
		"admin-password":             s.AdminPassword,
		"kafka-brokers":              "127.0.0.1:9092",
		"redis-password":             "",
		"postgres-connection-string": "host=127.0.0.1 port=5432 user=postgres dbname=postgres sslmode=disable",
		"rabbitmq-connection-string": "amqp://guest:guest@127.0.0.1:5672",
	}
	for key, env := range map[string]string{"redis-password": "REDIS_PASSWORD", "postgres-connection-string": "POSTGRES_CONNECTION_STRING", "rabbitmq-connection-string": "RABBITMQ_CONNECTION_STRING"} {
		if v, ok := os.LookupEnv(env); ok {
			secrets[key] = v
		}
	}
	return secrets, nil
}

// randomToken returns 32 random bytes, hex-encoded.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("no randomness: %v", err))
	}
	return hex.EncodeToString(b)
}

// launch starts p from the repository root, logging to a file; the process
// is killed if the test process dies.
func (s *System) launch(p *process) error {
	p.log = filepath.Join(s.dir, "logs", p.name+".log")
	if err := os.MkdirAll(filepath.Dir(p.log), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Dir = s.opts.Root
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(p.done)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.procs[p.name]; !ok {
		s.order = append(s.order, p.name)
	}
	s.procs[p.name] = p
	return nil
}

// waitHTTP polls url until it answers 2xx or ctx ends.
func (s *System) waitHTTP(ctx context.Context, url string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, body)
		} else {
			last = err.Error()
		}
		if dead := s.exited(); dead != "" {
			return fmt.Errorf("%s exited while waiting for %s", dead, url)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last answer: %s)", url, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// exited names a process that stopped on its own, or "".
func (s *System) exited() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range s.order {
		if s.procs[name].killed {
			continue
		}
		select {
		case <-s.procs[name].done:
			return name
		default:
		}
	}
	return ""
}

// InvokeURL is the gateway URL that invokes path on service svc (one of
// Services) through Dapr service invocation.
func (s *System) InvokeURL(svc, path string) string {
	return s.Gateway + "/v1.0/invoke/" + s.AppIDs[svc] + "/method" + path
}

// Kill stops a process at once (SIGKILL), as a crash would. Names are the
// services, "<service>-dapr" for their sidecars, "gateway-dapr" and
// "devbroker".
//
// With replicas (Options.Replicas), a service's name ("ordersvc", or
// "ordersvc-dapr") is the whole service: Kill, Restart, RestartWith and
// Exited act on every replica (Exited waits for any). "ordersvc-1" is
// replica 1 alone, "ordersvc-2" replica 2.
func (s *System) Kill(name string) error {
	return s.each(name, s.kill)
}

func (s *System) kill(name string) error {
	s.mu.Lock()
	p, ok := s.procs[name]
	if ok {
		p.killed = true
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("no process %q", name)
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	return nil
}

// Restart starts a killed process again with the same arguments and waits
// until it answers on its port.
func (s *System) Restart(ctx context.Context, name string) error {
	return s.each(name, func(name string) error { return s.restart(ctx, name) })
}

func (s *System) restart(ctx context.Context, name string) error {
	s.mu.Lock()
	old, ok := s.procs[name]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("no process %q", name)
	}
	if err := s.launch(&process{name: old.name, args: old.args, env: old.env, port: old.port, grpcPort: old.grpcPort, daprToken: old.daprToken, pprof: old.pprof}); err != nil {
		return err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", old.port)
	if strings.HasSuffix(name, "-dapr") {
		url = fmt.Sprintf("http://127.0.0.1:%d/v1.0/healthz/outbound", old.port)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.ReadyTimeout)
	defer cancel()
	return s.waitHTTP(ctx, url)
}

// stop ends p's process group, if it still runs: SIGTERM, then SIGKILL
// after ten seconds.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Stop ends every process, apps before sidecars before the broker: SIGTERM,
// then SIGKILL after ten seconds. It is safe to call more than once.
func (s *System) Stop() {
	s.mu.Lock()
	order := append([]string(nil), s.order...)
	s.mu.Unlock()
	if s.Broker != nil {
		defer s.Broker.Close()
	}
	// Apps first, so they drain while their sidecars still answer.
	var apps, rest []string
	for i := len(order) - 1; i >= 0; i-- {
		if strings.HasSuffix(order[i], "-dapr") || order[i] == "devbroker" {
			rest = append(rest, order[i])
		} else {
			apps = append(apps, order[i])
		}
	}
	for _, group := range [][]string{apps, rest} {
		var wg sync.WaitGroup
		for _, name := range group {
			p := s.procs[name]
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.stop()
			}()
		}
		wg.Wait()
	}
	if os.Getenv("E2E_KEEP") == "" {
		_ = os.RemoveAll(s.dir)
	}
}

// Logs returns the last lines of every process's log, for a failed run.
func (s *System) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, name := range s.order {
		data, _ := os.ReadFile(s.procs[name].log)
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > 60 {
			lines = lines[len(lines)-60:]
		}
		fmt.Fprintf(&b, "----- %s (%s) -----\n%s\n", name, s.procs[name].log, strings.Join(lines, "\n"))
	}
	return b.String()
}

// freePort asks the kernel for a free TCP port.
func freePort() int {
	handedOut.Lock()
	defer handedOut.Unlock()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(fmt.Sprintf("no free port: %v", err))
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		// The kernel may give a port again once it is closed, before the
		// process it was picked for binds it: a system picks dozens at
		// once (a replica's sidecar once lost its HTTP port to another
		// process of its own run, which answered its health check).
		if !handedOut.ports[port] {
			handedOut.ports[port] = true
			return port
		}
	}
}

// handedOut are the ports freePort gave in this process.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// Profile is the components profile the system runs on.
func (s *System) Profile() string { return s.opts.Profile }

// SidecarGRPC is the gRPC API address of a service's sidecar. It is for the
// store contract tests, which check what the services rely on from the
// profile's state stores; scenarios go through the gateway. The sidecar
// refuses calls without SidecarToken(svc).
func (s *System) SidecarGRPC(svc string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("127.0.0.1:%d", s.procs[svc+"-dapr"].grpcPort)
}

// SidecarToken is the DAPR_API_TOKEN of a service's sidecar ("" for the
// gateway, which clients call without one).
func (s *System) SidecarToken(svc string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.procs[svc+"-dapr"]; ok {
		return p.daprToken
	}
	return ""
}

// Port is the port a process answers on (an app's, a sidecar's HTTP API),
// by the names Kill takes; for tests that call around the gateway.
func (s *System) Port(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.procs[name]; ok {
		return p.port
	}
	return 0
}

// Pids are the process ids of the system's processes, by the names Kill
// takes; for tests of what the system exposes.
func (s *System) Pids() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for name, p := range s.procs {
		out[name] = p.cmd.Process.Pid
	}
	return out
}

// RestartWith stops a process if it still runs (SIGTERM, then SIGKILL after
// ten seconds) and starts it again with its environment changed: each
// entry of env sets a variable, or removes it when its value is "". It
// waits until the process answers on its port. Tests use it to run one
// service with test-only settings for a while.
func (s *System) RestartWith(ctx context.Context, name string, env map[string]string) error {
	return s.each(name, func(name string) error { return s.restartWith(ctx, name, env) })
}

func (s *System) restartWith(ctx context.Context, name string, env map[string]string) error {
	s.mu.Lock()
	old, ok := s.procs[name]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("no process %q", name)
	}
	// Stopped on purpose: a replica restarting alongside must not take it
	// for a crash (waitHTTP fails when a process exits on its own).
	s.mu.Lock()
	old.killed = true
	s.mu.Unlock()
	old.stop()
	var vars []string
	for _, kv := range old.env {
		if k, _, _ := strings.Cut(kv, "="); !hasKey(env, k) {
			vars = append(vars, kv)
		}
	}
	for k, v := range env {
		if v != "" {
			vars = append(vars, k+"="+v)
		}
	}
	s.mu.Lock()
	s.procs[name] = &process{name: old.name, args: old.args, env: vars, port: old.port, grpcPort: old.grpcPort, daprToken: old.daprToken, done: old.done, cmd: old.cmd, log: old.log, pprof: old.pprof, killed: true}
	s.mu.Unlock()
	return s.restart(ctx, name)
}

// Exited waits until the process stops on its own, or ctx ends.
func (s *System) Exited(ctx context.Context, name string) error {
	names := s.resolve(name)
	s.mu.Lock()
	var done []chan struct{}
	for _, n := range names {
		p, ok := s.procs[n]
		if !ok {
			s.mu.Unlock()
			return fmt.Errorf("no process %q", n)
		}
		done = append(done, p.done)
	}
	s.mu.Unlock()
	// Any of them: a fault hook stops the replica that took the request.
	anyDone := make(chan struct{}, len(done))
	for _, d := range done {
		go func() {
			select {
			case <-d:
				anyDone <- struct{}{}
			case <-ctx.Done():
			}
		}()
	}
	select {
	case <-anyDone:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s still running: %w", name, ctx.Err())
	}
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}
