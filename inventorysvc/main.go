// Command inventorysvc serves products and stock behind its Dapr sidecar,
// and reserves, commits and releases stock for the order saga.
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
	service.Main(service.App[settings]{Name: "inventorysvc", OpenAPI: openAPI, Load: loadSettings, Start: start})
}
