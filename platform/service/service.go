// Package service runs one of the shop's HTTP services behind its Dapr
// sidecar: JSON logging, signals, the settings every service shares, waiting
// for the sidecar, the Dapr client, and serving with a graceful shutdown.
package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/sirupsen/logrus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"shop/platform/config"
	"shop/platform/httpx"
	"shop/platform/sidecar"
	"shop/platform/telemetry"
)

// main sets up JSON logging and SIGINT/SIGTERM handling, serves Go
// profiles when PPROF_ADDR names a loopback address (startPprof), calls
// run, and exits 1 when run fails.
func main(name string, run func(ctx context.Context, log *logrus.Entry, lookup func(string) (string, bool)) error) {
	logger := logrus.New()
	logger.SetFormatter(&logrus.JSONFormatter{})
	logger.SetOutput(os.Stdout)
	log := logger.WithField("service", name)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := startPprof(ctx, log, os.Getenv("PPROF_ADDR"))
	if err == nil {
		err = run(ctx, log, os.LookupEnv)
	}
	stop()
	if err != nil {
		log.WithError(err).Error("startup")
		os.Exit(1)
	}
}

// Settings are what every service reads from its environment.
type Settings struct {
	Port          int           // APP_PORT: where the app listens for its sidecar
	ListenAddress string        // APP_LISTEN_ADDRESS: the address it listens on (default 127.0.0.1; 0.0.0.0 opens it)
	DaprHost      string        // DAPR_HOST (default 127.0.0.1)
	DaprHTTPPort  int           // DAPR_HTTP_PORT (default 3500)
	DaprGRPCPort  int           // DAPR_GRPC_PORT (default 50001)
	SidecarWait   time.Duration // SIDECAR_WAIT: how long start-up waits for the sidecar (default 1m)
	ShutdownDrain time.Duration // SHUTDOWN_DRAIN: how long SIGTERM waits for in-flight requests (default 10s)
	AppAPIToken   string        // APP_API_TOKEN: the token the sidecar sends with every call
	DaprAPIToken  string        // DAPR_API_TOKEN: the token the app sends its sidecar (the Dapr client reads it too)
	PubSub        string        // PUBSUB: the pub/sub component carrying the events (default pubsub)
	// OTEL_EXPORTER_OTLP_ENDPOINT: the OTLP/HTTP collector the app's spans
	// go to (for example http://127.0.0.1:4318); empty records none.
	OTLPEndpoint string
	// METRICS_ADDR: where GET /metrics answers (default 127.0.0.1 and the
	// app's default port + 1000); "off" serves none.
	MetricsAddr string
	// INSECURE_NO_API_TOKENS=true lets the app start without the two tokens:
	// then anything that reaches its port or its sidecar's is trusted.
	InsecureNoTokens bool
}

// LoadSettings reads the shared settings; defaultPort is the service's own.
func LoadSettings(src *config.Source, defaultPort int) Settings {
	return Settings{
		Port:          src.Int("APP_PORT", defaultPort, 1, 65535),
		ListenAddress: src.String("APP_LISTEN_ADDRESS", "127.0.0.1"),
		DaprHost:      src.String("DAPR_HOST", "127.0.0.1"),
		DaprHTTPPort:  src.Int("DAPR_HTTP_PORT", 3500, 1, 65535),
		DaprGRPCPort:  src.Int("DAPR_GRPC_PORT", 50001, 1, 65535),
		SidecarWait:   src.Duration("SIDECAR_WAIT", time.Minute),
		ShutdownDrain: src.Duration("SHUTDOWN_DRAIN", 10*time.Second),
		AppAPIToken:   src.String("APP_API_TOKEN", ""),
		DaprAPIToken:  src.String("DAPR_API_TOKEN", ""),
		PubSub:        src.String("PUBSUB", "pubsub"),
		OTLPEndpoint:  src.String("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
		MetricsAddr:   metricsAddr(src.String("METRICS_ADDR", net.JoinHostPort("127.0.0.1", strconv.Itoa(defaultPort+1000)))),

		InsecureNoTokens: src.Bool("INSECURE_NO_API_TOKENS", false),
	}
}

func metricsAddr(v string) string {
	if v == "off" {
		return ""
	}
	return v
}

// ErrNoTokens is why an app refuses to start without its API tokens.
var ErrNoTokens = errors.New("APP_API_TOKEN and DAPR_API_TOKEN must both be set (dapr.yaml and the Kubernetes manifests set them); " +
	"INSECURE_NO_API_TOKENS=true starts without them, trusting anything that reaches the app's or its sidecar's ports")

// CheckTokens answers ErrNoTokens when a token is missing and the
// deployment did not say that this is deliberate.
func (s Settings) CheckTokens() error {
	if (s.AppAPIToken == "" || s.DaprAPIToken == "") && !s.InsecureNoTokens {
		return ErrNoTokens
	}
	return nil
}

// DaprHTTPAddr is the sidecar's HTTP API address.
func (s Settings) DaprHTTPAddr() string {
	return net.JoinHostPort(s.DaprHost, strconv.Itoa(s.DaprHTTPPort))
}

// DaprGRPCAddr is the sidecar's gRPC API address.
func (s Settings) DaprGRPCAddr() string {
	return net.JoinHostPort(s.DaprHost, strconv.Itoa(s.DaprGRPCPort))
}

// Connect checks the tokens (CheckTokens), waits until the sidecar is
// ready, then opens a Dapr client to it. The Health it returns is the
// service's readiness check. The client sends DAPR_API_TOKEN (the SDK reads
// it from the environment).
func (s Settings) Connect(ctx context.Context, log *logrus.Entry) (dapr.Client, *sidecar.Health, error) {
	if err := s.CheckTokens(); err != nil {
		return nil, nil, err
	}
	if s.AppAPIToken == "" || s.DaprAPIToken == "" {
		log.Warn("INSECURE_NO_API_TOKENS: running without API tokens; anything that reaches this app's or its sidecar's ports is trusted")
	}
	health := sidecar.NewHealth(s.DaprHTTPAddr())
	log.WithField("sidecar", s.DaprHTTPAddr()).Info("waiting for the Dapr sidecar")
	if err := health.Wait(ctx, s.SidecarWait, 250*time.Millisecond, nil); err != nil {
		return nil, nil, err
	}
	// While its sidecar restarts, a call waits for it (until the call's
	// context ends) instead of failing at once, and the connection comes
	// back within a second: gRPC's default back-off grows to two minutes
	// between tries.
	client, err := dapr.NewClientWithAddressContext(ctx, s.DaprGRPCAddr(), grpc.WithChainUnaryInterceptor(telemetry.InjectTraceContext),
		grpc.WithDefaultCallOptions(grpc.WaitForReady(true)),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second}, MinConnectTimeout: time.Second}))
	if err != nil {
		return nil, nil, fmt.Errorf("dapr client: %w", err)
	}
	return client, health, nil
}

// Serve listens on APP_LISTEN_ADDRESS:APP_PORT and serves h, with request
// logging and the app token check, until ctx ends; then it drains in-flight
// requests.
func (s Settings) Serve(ctx context.Context, log *logrus.Entry, h http.Handler) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(s.ListenAddress, strconv.Itoa(s.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.WithField("addr", ln.Addr().String()).Info("serving")
	handler := httpx.Log(log)(httpx.RequireAppToken(s.AppAPIToken)(h))
	if err := httpx.Serve(ctx, ln, handler, s.ShutdownDrain); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}
