// Command daprd is the Dapr runtime the project runs on: daprd 1.18 as
// released (github.com/dapr/dapr/cmd/daprd, built by scripts/setup.sh with
// -tags stablecomponents), plus two HTTP middlewares the gateway needs:
//
//   - routerchecker, which the stable component set leaves out: it refuses
//     a request whose path does not match a regular expression. With it the
//     gateway sidecar serves invocations of the shop's apps and nothing
//     else: Dapr's API allowlist can allow "invoke" only as a whole, and
//     invoke also reaches any URL (/v1.0/invoke/http://host:port/method/...).
//   - invokeproblems (package invokeproblems, the project's own): daprd's
//     own errors on an invocation become problem details, and "no replica
//     of the app can be reached" a 503 with Retry-After instead of a 500.
//
// and pubsub.rabbitmq with each subscription on a broker connection of its
// own (package pubsubpersub): the released component loses deliveries
// after the broker connection drops, when the subscriptions sharing its one
// AMQP channel register again at once (dapr/components-contrib#4540).
//
// On Kubernetes the apps' sidecars are Dapr's release images, built with
// every component, routerchecker included; invokeproblems is only in this
// build, so the gateway's sidecar runs it as an image (Dockerfile here,
// dapr.io/sidecar-image in k8s/base/gateway/ingress-nginx-values.yaml).
package main

import (
	"context"

	contribmiddleware "github.com/dapr/components-contrib/middleware"
	"github.com/dapr/components-contrib/middleware/http/routerchecker"
	"github.com/dapr/components-contrib/pubsub/rabbitmq"
	"github.com/dapr/dapr/cmd/daprd/app"
	httpmiddleware "github.com/dapr/dapr/pkg/components/middleware/http"
	pubsubloader "github.com/dapr/dapr/pkg/components/pubsub"
	"github.com/dapr/dapr/pkg/middleware"
	"github.com/dapr/kit/logger"

	"shop/tools/daprd/invokeproblems"
	"shop/tools/daprd/pubsubpersub"
)

func init() {
	httpmiddleware.DefaultRegistry.RegisterComponent(func(log logger.Logger) httpmiddleware.FactoryMethod {
		return func(metadata contribmiddleware.Metadata) (middleware.HTTP, error) {
			return routerchecker.NewMiddleware(log).GetHandler(context.Background(), metadata)
		}
	}, "routerchecker")
	httpmiddleware.DefaultRegistry.RegisterComponent(func(logger.Logger) httpmiddleware.FactoryMethod {
		return func(contribmiddleware.Metadata) (middleware.HTTP, error) {
			return invokeproblems.Handler, nil
		}
	}, "invokeproblems")
	// Replaces the release's registration of the same name: a package's
	// init runs after those of the packages it imports.
	pubsubloader.DefaultRegistry.RegisterComponent(pubsubpersub.Wrap(rabbitmq.NewRabbitMQ), "rabbitmq")
}

func main() {
	app.Run()
}
