module shop/e2e

go 1.26.0

require github.com/dapr/go-sdk v1.11.0 // indirect
