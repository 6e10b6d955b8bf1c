# syntax=docker/dockerfile:1
#
# Container image of one service, named by the build argument SERVICE
# (usersvc, ordersvc, inventorysvc or storefront). Build it from the repository root,
# which is the build context (every service needs its sibling module
# platform/):
#
#   docker build --build-arg SERVICE=ordersvc -t ghcr.io/example/shop-ordersvc:dev .
#
# The build runs in module mode (GOWORK=off) with only platform/ and the
# service's folder copied in, so the image depends on nothing else in the
# repository and the service's go.sum must be complete (k8s/validate builds
# the binaries the same way in its tests). No secret enters either stage:
# the app reads its secrets from the Dapr secret store at run time. The
# app listens on its own default port (APP_PORT; the Kubernetes manifests
# set it and declare the container port).

FROM golang:1.26 AS build
ARG SERVICE
ENV CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly
RUN test -n "$SERVICE" || { echo "build with --build-arg SERVICE=usersvc|ordersvc|inventorysvc|storefront" >&2; exit 1; }
WORKDIR /src/${SERVICE}
# Module files first: the download layer is reused until they change.
COPY platform/go.mod platform/go.sum /src/platform/
COPY ${SERVICE}/go.mod ${SERVICE}/go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY platform/ /src/platform/
COPY ${SERVICE}/ ./
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w" -o /out/service .

# Distroless static: no shell, no package manager, no libc. It runs as the
# unprivileged user nonroot (65532), which the Kubernetes manifests require.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/service /service
USER 65532:65532
ENTRYPOINT ["/service"]
