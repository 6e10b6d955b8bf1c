// Command devbroker is an in-memory Kafka-protocol broker for local
// development, built on franz-go's kfake. It is not a real Kafka and keeps
// nothing on disk.
//
// The Dapr CLI (dapr run -f) starts a run-file entry that has no command as
// <runtimePath>/bin/daprd with daprd flags, and waits until that process
// listens on --dapr-http-port before it starts the next entries. Installed as
// that daprd, devbroker ignores the daprd flags it does not know and answers
// GET /v1.0/healthz on the --dapr-http-port once Kafka is listening, so every
// sidecar started after it finds its broker up.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/twmb/franz-go/pkg/kfake"
)

const (
	defaultKafkaAddr = "127.0.0.1:9092"
	// partitions of every topic the broker creates. Dapr's Kafka consumer
	// handles one partition's messages one at a time, in order; the
	// services publish with the order id as partition key, so one order's
	// events stay in order and different orders spread over the
	// partitions. Partitions are what a Kafka operator scales consumers
	// with. Each sidecar's consumer fetches every partition of the topics
	// it subscribes to in each fetch, so its CPU grows with their number:
	// at 100 orders/s on two cores, 64 partitions cost the ordersvc
	// sidecar 0.58 cores and 16 cost it 0.37 (make bench, 2026-12-02).
	partitions      = 16
	clusterID       = "shop-devbroker"
	healthPath      = "/v1.0/healthz"
	shutdownTimeout = 5 * time.Second
)

func main() {
	log := logrus.New()
	log.SetOutput(os.Stdout)
	log.SetFormatter(&logrus.JSONFormatter{})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, os.Args[1:], log); err != nil {
		log.WithError(err).Error("devbroker failed")
		stop()
		os.Exit(1)
	}
}

// config is what devbroker takes from its command line.
type config struct {
	kafkaAddr  string // where the Kafka protocol listens
	healthAddr string // where GET /v1.0/healthz answers; empty for none
	grpcAddr   string // the CLI also waits for --dapr-grpc-port to accept connections
	version    bool   // print the version and exit
}

// parseArgs reads the flags devbroker knows and ignores all others, so that
// it can be started with daprd's command line. Flags take one or two dashes
// and either "--name value" or "--name=value". An unknown flag consumes the
// next argument as its value unless that argument looks like a flag (the CLI
// passes "--app-port -1", so negative numbers are values), which handles
// daprd's boolean flags; positional arguments are ignored. --build-info is
// read as --version, as the CLI's "dapr version" asks for it first.
// --health-addr wins over --dapr-http-port, which listens on 127.0.0.1.
func parseArgs(args []string) (config, error) {
	cfg := config{kafkaAddr: defaultKafkaAddr}
	var httpPort, grpcPort string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			break
		}
		if !isFlag(arg) {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		// takeValue returns the flag's value: after "=" or the next argument.
		takeValue := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 < len(args) && !isFlag(args[i+1]) {
				i++
				return args[i], nil
			}
			return "", fmt.Errorf("flag --%s needs a value", name)
		}
		var err error
		switch name {
		case "kafka-addr":
			cfg.kafkaAddr, err = takeValue()
		case "health-addr":
			cfg.healthAddr, err = takeValue()
		case "dapr-http-port":
			httpPort, err = takeValue()
		case "dapr-grpc-port":
			grpcPort, err = takeValue()
		case "version", "build-info":
			cfg.version = true
			if hasValue {
				if cfg.version, err = strconv.ParseBool(value); err != nil {
					err = fmt.Errorf("flag --%s: %w", name, err)
				}
			}
		default:
			if !hasValue && i+1 < len(args) && !isFlag(args[i+1]) {
				i++ // the unknown flag's value
			}
		}
		if err != nil {
			return config{}, err
		}
	}
	if cfg.kafkaAddr == "" {
		return config{}, errors.New("flag --kafka-addr is empty")
	}
	if httpPort != "" && cfg.healthAddr == "" {
		port, err := strconv.ParseUint(httpPort, 10, 16)
		if err != nil {
			return config{}, fmt.Errorf("flag --dapr-http-port: invalid port %q", httpPort)
		}
		cfg.healthAddr = net.JoinHostPort("127.0.0.1", strconv.FormatUint(port, 10))
	}
	if grpcPort != "" && grpcPort != "-1" {
		port, err := strconv.ParseUint(grpcPort, 10, 16)
		if err != nil {
			return config{}, fmt.Errorf("flag --dapr-grpc-port: invalid port %q", grpcPort)
		}
		cfg.grpcAddr = net.JoinHostPort("127.0.0.1", strconv.FormatUint(port, 10))
	}
	return cfg, nil
}

// isFlag reports whether arg is a flag rather than a value such as "-1".
func isFlag(arg string) bool {
	if len(arg) < 2 || arg[0] != '-' {
		return false
	}
	_, err := strconv.ParseFloat(arg, 64)
	return err != nil
}

// run serves the broker (and the health endpoint, if asked for) until ctx is
// done, then closes both. It returns nil after a clean shutdown.
func run(ctx context.Context, args []string, log *logrus.Logger) error {
	cfg, err := parseArgs(args)
	if err != nil {
		return fmt.Errorf("parse arguments: %w", err)
	}
	if cfg.version {
		_, err := fmt.Fprintln(log.Out, versionString())
		return err
	}

	ln, err := net.Listen("tcp", cfg.kafkaAddr)
	if err != nil {
		return fmt.Errorf("listen for kafka: %w", err)
	}
	cluster, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		// kfake listens on 127.0.0.1:<port>; hand it our listener instead
		// so that --kafka-addr (host and port, or port 0) is honoured.
		kfake.ListenFn(func(string, string) (net.Listener, error) { return ln, nil }),
		kfake.ClusterID(clusterID),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(partitions),
		kfake.WithLogger(kfakeLogger{log}),
	)
	if err != nil {
		ln.Close()
		return fmt.Errorf("start kafka cluster: %w", err)
	}
	defer func() {
		cluster.Close()
		ln.Close() // already closed by the cluster; makes sure the port is free
	}()

	fields := logrus.Fields{"kafka_addr": ln.Addr().String(), "cluster_id": clusterID}
	serveErr := make(chan error, 2)
	// The health endpoint answers on the HTTP port and, for the CLI's
	// start-up check, on the gRPC port too.
	for _, h := range []struct{ field, addr string }{{"health_addr", cfg.healthAddr}, {"grpc_addr", cfg.grpcAddr}} {
		if h.addr == "" {
			continue
		}
		hln, err := net.Listen("tcp", h.addr)
		if err != nil {
			return fmt.Errorf("listen for health on %s: %w", h.addr, err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(health), ReadHeaderTimeout: 5 * time.Second}
		go func() { serveErr <- srv.Serve(hln) }()
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				log.WithError(err).Warn("health server shutdown")
			}
		}()
		fields[h.field] = hln.Addr().String()
	}
	log.WithFields(fields).Info("devbroker listening")

	select {
	case <-ctx.Done():
		log.Info("devbroker shutting down")
		return nil
	case err := <-serveErr:
		return fmt.Errorf("serve health: %w", err)
	}
}

// health answers GET /v1.0/healthz with 204, as daprd does, and 404 otherwise.
func health(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != healthPath || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// versionString names the program and the kfake version it was built with.
func versionString() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == "github.com/twmb/franz-go/pkg/kfake" {
				return "devbroker (kfake " + dep.Version + ")"
			}
		}
	}
	return "devbroker (kfake)"
}

// kfakeLogger passes kfake's errors and warnings to logrus; its info and
// debug messages (one per request) become debug lines.
type kfakeLogger struct{ log *logrus.Logger }

func (l kfakeLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	lvl := logrus.DebugLevel
	switch level {
	case kfake.LogLevelNone:
		return
	case kfake.LogLevelError:
		lvl = logrus.ErrorLevel
	case kfake.LogLevelWarn:
		lvl = logrus.WarnLevel
	}
	l.log.WithField("component", "kfake").Logf(lvl, format, args...)
}
