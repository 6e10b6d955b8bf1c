// Command daprd is the Dapr runtime the project runs on: daprd 1.18 as
// released (github.com/dapr/dapr/cmd/daprd, built by scripts/setup.sh with
// -tags stablecomponents), plus one HTTP middleware that the stable
// component set leaves out and the gateway needs: routerchecker, which
// refuses a request whose path does not match a regular expression. With
// it the gateway sidecar serves invocations of the shop's apps and nothing
// else: Dapr's API allowlist can allow "invoke" only as a whole, and invoke
// also reaches any URL (/v1.0/invoke/http://host:port/method/...).
// Kubernetes sidecars are Dapr's release images, built with every
// component, routerchecker included.
package main

import (
	"context"

	contribmiddleware "github.com/dapr/components-contrib/middleware"
	"github.com/dapr/components-contrib/middleware/http/routerchecker"
	"github.com/dapr/dapr/cmd/daprd/app"
	httpmiddleware "github.com/dapr/dapr/pkg/components/middleware/http"
	"github.com/dapr/dapr/pkg/middleware"
	"github.com/dapr/kit/logger"
)

func init() {
	httpmiddleware.DefaultRegistry.RegisterComponent(func(log logger.Logger) httpmiddleware.FactoryMethod {
		return func(metadata contribmiddleware.Metadata) (middleware.HTTP, error) {
			return routerchecker.NewMiddleware(log).GetHandler(context.Background(), metadata)
		}
	}, "routerchecker")
}

func main() {
	app.Run()
}
