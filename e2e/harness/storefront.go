package harness

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
)

// startStorefront starts the storefront and its sidecar (Options.Storefront)
// like the run file does: the sidecar with the storefront's Configuration,
// fresh tokens for the pair, and the app on a free loopback port, calling
// this run's services by their app ids.
func (s *System) startStorefront(ctx context.Context, resources []string) error {
	bin := filepath.Join(s.dir, "bin", "storefront")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./storefront")
	cmd.Dir = s.opts.Root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build storefront: %w\n%s", err, out)
	}
	s.AppIDs["storefront"] = "storefront-" + s.suffix
	appPort, httpPort, grpcPort := freePort(), freePort(), freePort()
	appToken, daprToken := randomToken(), randomToken()
	tokens := []string{"APP_API_TOKEN=" + appToken, "DAPR_API_TOKEN=" + daprToken}
	config, err := s.sidecarConfig("storefront")
	if err != nil {
		return err
	}
	sidecar := &process{name: "storefront-dapr", port: httpPort, grpcPort: grpcPort, daprToken: daprToken, env: tokens,
		args: s.daprdArgs(s.AppIDs["storefront"], httpPort, grpcPort, appPort, config, resources)}
	if err := s.launch(sidecar); err != nil {
		return err
	}
	env := append([]string{
		fmt.Sprintf("APP_PORT=%d", appPort),
		fmt.Sprintf("DAPR_HTTP_PORT=%d", httpPort),
		fmt.Sprintf("DAPR_GRPC_PORT=%d", grpcPort),
		"USERS_APP_ID=" + s.AppIDs["usersvc"],
		"INVENTORY_APP_ID=" + s.AppIDs["inventorysvc"],
		"ORDERS_APP_ID=" + s.AppIDs["ordersvc"],
	}, tokens...)
	if err := s.launch(&process{name: "storefront", port: appPort, env: env, args: []string{bin}}); err != nil {
		return err
	}
	return s.waitHTTP(ctx, s.StorefrontURL()+"/readyz")
}

// StorefrontURL is the base URL of the storefront's pages, or "" when the
// system was started without it (Options.Storefront).
func (s *System) StorefrontURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.procs["storefront"]; ok {
		return fmt.Sprintf("http://127.0.0.1:%d", p.port)
	}
	return ""
}
