package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Sidecar is one daprd started on its own for a test of what the profile's
// components do (not of the shop's services): its app is served by the
// test itself.
type Sidecar struct {
	// HTTP is the base URL of the sidecar's Dapr HTTP API.
	HTTP string
	// AppID is the sidecar's app id, unique to this run.
	AppID string
	sys   *System
}

// Resources is where StartSidecar's caller writes the sidecar's resources.
type Resources struct {
	// Dir is the folder to write component files into.
	Dir string
	// Secrets holds what the harness provides (kafka-brokers, the address
	// of the broker it started); the caller may add to it.
	Secrets map[string]string
	// File is the path of a file of the profile's components folder, or of
	// components/common when the profile has none of that name.
	File func(name string) string
}

// StartSidecar starts the profile's broker when it needs one (the
// development Kafka broker), then one daprd named appID-<run suffix> whose
// app listens on appPort, with the resources that render writes.
func StartSidecar(ctx context.Context, opts Options, appID string, appPort int, render func(Resources) error) (*Sidecar, error) {
	sys := &System{procs: map[string]*process{}, AppIDs: map[string]string{}}
	var err error
	if sys.opts, err = opts.complete(ctx); err != nil {
		return nil, err
	}
	if sys.dir, err = os.MkdirTemp("", "shop-e2e-sidecar-"); err != nil {
		return nil, err
	}
	sys.suffix = strconv.FormatInt(int64(os.Getpid()), 36) + strconv.Itoa(appPort)
	sc := &Sidecar{AppID: appID + "-" + sys.suffix, sys: sys}
	fail := func(err error) (*Sidecar, error) {
		err = fmt.Errorf("%w\n%s", err, sys.Logs())
		sys.Stop()
		return nil, err
	}
	secrets := map[string]string{}
	if sys.usesDevBroker() {
		if secrets["kafka-brokers"], err = sys.startBroker(ctx); err != nil {
			return fail(err)
		}
	}
	resources := filepath.Join(sys.dir, "resources")
	if err := os.MkdirAll(resources, 0o755); err != nil {
		return fail(err)
	}
	if err := render(Resources{Dir: resources, Secrets: secrets, File: sys.profileFile}); err != nil {
		return fail(fmt.Errorf("render resources: %w", err))
	}
	// A Configuration of its own: the apps' Configurations scope secrets
	// and access control to the shop's apps, which this sidecar is not.
	config := filepath.Join(sys.dir, "config.yaml")
	if err := os.WriteFile(config, []byte("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: sidecar\nspec:\n  metric:\n    enabled: false\n"), 0o644); err != nil {
		return fail(err)
	}
	httpPort, grpcPort := freePort(), freePort()
	if err := sys.launch(&process{name: appID + "-dapr", port: httpPort, grpcPort: grpcPort,
		args: sys.daprdArgs(sc.AppID, httpPort, grpcPort, appPort, config, []string{resources})}); err != nil {
		return fail(err)
	}
	sc.HTTP = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	wait, cancel := context.WithTimeout(ctx, sys.opts.ReadyTimeout)
	defer cancel()
	if err := sys.waitHTTP(wait, sc.HTTP+"/v1.0/healthz"); err != nil {
		return fail(fmt.Errorf("%s: %w", sc.AppID, err))
	}
	return sc, nil
}

// Stop ends the sidecar and the broker.
func (sc *Sidecar) Stop() { sc.sys.Stop() }

// Logs returns the last lines of the sidecar's and the broker's logs.
func (sc *Sidecar) Logs() string { return sc.sys.Logs() }

// Profile is the components profile the sidecar runs on.
func (sc *Sidecar) Profile() string { return sc.sys.opts.Profile }

func (s *System) profileFile(name string) string {
	p := filepath.Join(s.opts.Root, "components", s.opts.Profile, name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return filepath.Join(s.opts.Root, "components", "common", name)
}

// Suffix is the run suffix: give topics names of their own with it.
func (sc *Sidecar) Suffix() string { return strings.ToLower(sc.sys.suffix) }
