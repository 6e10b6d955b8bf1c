// Command ordersvc serves orders and runs the order saga behind its Dapr
// sidecar.
package main

import (
	_ "embed"

	"shop/platform/service"
)

// openAPI is the service's API document; a test holds it to the router.
//
//go:embed openapi.yaml
var openAPI []byte

func main() {
	service.Main(service.App[settings]{Name: "ordersvc", OpenAPI: openAPI, Load: loadSettings, Start: start})
}
