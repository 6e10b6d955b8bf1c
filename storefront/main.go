// Command storefront serves the shop's web pages: a backend for the
// browser that calls usersvc, inventorysvc and ordersvc through its own
// Dapr sidecar. The browser talks only to the storefront's origin and never
// sees an access token (README: "The storefront").
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"shop/platform/httpx"
	"shop/platform/sidecar"
	"shop/storefront/internal/shopapi"
	"shop/storefront/internal/web"
)

func main() {
	logger := logrus.New()
	logger.SetFormatter(&logrus.JSONFormatter{})
	logger.SetOutput(os.Stdout)
	log := logger.WithField("service", "storefront")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, log, os.LookupEnv)
	stop()
	if err != nil {
		log.WithError(err).Error("startup")
		os.Exit(1)
	}
}

// run waits for the sidecar, then serves the pages on
// APP_LISTEN_ADDRESS:APP_PORT until ctx ends. The port serves browsers, so
// it asks for no app token (APP_API_TOKEN, which only its sidecar would
// send); web.Secure refuses whatever arrives there by service invocation.
func run(ctx context.Context, log *logrus.Entry, lookup func(string) (string, bool)) error {
	cfg, err := loadSettings(lookup)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if err := cfg.CheckTokens(); err != nil {
		return err
	}
	health := sidecar.NewHealth(cfg.DaprHTTPAddr())
	log.WithField("sidecar", cfg.DaprHTTPAddr()).Info("waiting for the Dapr sidecar")
	if err := health.Wait(ctx, cfg.SidecarWait, 250*time.Millisecond, nil); err != nil {
		return err
	}
	api := shopapi.New(cfg.DaprHTTPAddr(), cfg.DaprAPIToken, shopapi.AppIDs{
		Users: cfg.UsersAppID, Inventory: cfg.InventoryAppID, Orders: cfg.OrdersAppID,
	})
	pages, err := web.New(web.Deps{API: api, SecureCookies: cfg.SecureCookies, SignInLimit: cfg.SignInLimit})
	if err != nil {
		return err
	}
	r := httpx.NewRouter()
	httpx.HandleHealth(r, health.Check)
	pages.Register(r)
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.ListenAddress, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.WithField("addr", ln.Addr().String()).Info("serving")
	if err := httpx.Serve(ctx, ln, httpx.Log(log)(web.Secure(r)), cfg.ShutdownDrain); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}
