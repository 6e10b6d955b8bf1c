package service

import (
	"context"
	"fmt"
	"net/http"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/gorilla/mux"
	"github.com/sirupsen/logrus"

	"shop/platform/httpx"
	"shop/platform/telemetry"
)

// Routes is a service's HTTP room: its handler registers every route the
// service serves beyond health and the API document.
type Routes interface {
	Register(r *mux.Router)
}

// Configured is a service's settings: its own, with the shared Settings
// embedded (whose Shared method they promote).
type Configured interface {
	Shared() Settings
}

// Shared returns the settings every service reads.
func (s Settings) Shared() Settings { return s }

// App is what differs between the services' start-ups; Run does the rest.
type App[S Configured] struct {
	// Name is the service's name, in every log line.
	Name string
	// OpenAPI is the service's API document, served at GET /openapi.yaml.
	OpenAPI []byte
	// Load reads the service's settings from its environment.
	Load func(lookup func(string) (string, bool)) (S, error)
	// Start builds the service: the domain, its adapters on the sidecar's
	// client, and the HTTP handler that Run serves.
	Start func(ctx context.Context, env Env, cfg S) (Routes, error)
}

// Env is what a service starts with besides its settings.
type Env struct {
	Log    *logrus.Entry
	Client dapr.Client // the sidecar's client, open until Run returns
	// Telemetry is the service's tracer and metrics registry: a service
	// registers its own metrics there.
	Telemetry *telemetry.Telemetry
}

// Main is the whole of a service's main function (see Run).
func Main[S Configured](app App[S]) {
	main(app.Name, func(ctx context.Context, log *logrus.Entry, lookup func(string) (string, bool)) error {
		return Run(ctx, log, lookup, app)
	})
}

// Run starts a service: it reads the settings, waits for the sidecar and
// connects to it (Settings.Connect), builds the service (app.Start), and
// serves its routes, health and API document until ctx ends.
func Run[S Configured](ctx context.Context, log *logrus.Entry, lookup func(string) (string, bool), app App[S]) error {
	cfg, err := app.Load(lookup)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	shared := cfg.Shared()
	tel, err := telemetry.New(ctx, telemetry.Options{Service: app.Name, Endpoint: shared.OTLPEndpoint})
	if err != nil {
		return err
	}
	defer func() {
		// Spans still queued get a moment to leave; a collector that is
		// not there costs no more than that.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := tel.Shutdown(ctx); err != nil {
			log.WithError(err).Warn("spans not exported")
		}
	}()
	if err := tel.ServeMetrics(ctx, log, shared.MetricsAddr); err != nil {
		return err
	}
	client, health, err := shared.Connect(ctx, log)
	if err != nil {
		return err
	}
	defer client.Close()
	routes, err := app.Start(ctx, Env{Log: log, Client: client, Telemetry: tel}, cfg)
	if err != nil {
		return err
	}
	return shared.Serve(ctx, log, tel.HTTP(Router(routes, app.OpenAPI, health.Check)))
}

// Router is every route of a service: GET /healthz and /readyz (ready
// answers readiness), GET /openapi.yaml, and the service's own routes.
func Router(routes Routes, openAPI []byte, ready func(context.Context) error) *mux.Router {
	r := httpx.NewRouter()
	r.Use(telemetry.TagRoute)
	httpx.HandleHealth(r, ready)
	r.HandleFunc("/openapi.yaml", serveDocument(openAPI)).Methods(http.MethodGet)
	routes.Register(r)
	return r
}

// serveDocument serves the API document; clients may cache it briefly.
func serveDocument(doc []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(doc)
	}
}
