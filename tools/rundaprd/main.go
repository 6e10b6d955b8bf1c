// Command rundaprd starts the installed daprd for one entry of the
// Multi-App Run file (dapr.yaml), translating the command line that Dapr CLI
// 1.12 builds into the one daprd 1.18 should get.
//
// The newest Dapr CLI that builds from the Go module proxy is 1.12. For
// every entry it passes daprd:
//
//   - --placement-host-address localhost:50005 (it puts in localhost when the
//     run file names none). daprd 1.18 then enables actors and answers 500
//     on /v1.0/healthz until it reaches a placement service. The shop uses
//     no actors, workflows or jobs, so rundaprd passes no placement address
//     (and no scheduler address: "Scheduler disabled").
//   - --dapr-http-max-request-size -1 and --dapr-http-read-buffer-size -1,
//     both deprecated in daprd 1.18 (each start logs a warning) and -1
//     meaning "not set". rundaprd drops them, or passes a value that was
//     set as --max-body-size / --read-buffer-size.
//
// It also makes every port of the sidecar listen on the loopback address
// unless told otherwise: the API ports (--dapr-listen-addresses), the
// internal gRPC port that sidecars call each other on
// (--dapr-internal-grpc-listen-address) and the metrics port
// (--metrics-listen-address); the CLI can set only the first. Set
// DAPR_LISTEN_ADDRESS (for example 0.0.0.0) to open them deliberately.
//
// The run file points an entry at rundaprd with runtimePath: .bin/rundaprd,
// where scripts/setup.sh installs it as .dapr/bin/daprd. The real daprd is
// $DAPRD, or ~/.dapr/bin/daprd.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	daprd, err := realDaprd(os.Getenv, os.UserHomeDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rundaprd:", err)
		os.Exit(1)
	}
	args := Translate(os.Args[1:], os.Getenv("DAPR_LISTEN_ADDRESS"))
	if err := syscall.Exec(daprd, append([]string{daprd}, args...), os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "rundaprd: exec %s: %v\n", daprd, err)
		os.Exit(1)
	}
}

// realDaprd finds the installed daprd: $DAPRD, else ~/.dapr/bin/daprd.
func realDaprd(getenv func(string) string, home func() (string, error)) (string, error) {
	if p := getenv("DAPRD"); p != "" {
		return p, nil
	}
	h, err := home()
	if err != nil {
		return "", fmt.Errorf("no home folder to find daprd in (set DAPRD): %w", err)
	}
	p := filepath.Join(h, ".dapr", "bin", "daprd")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("daprd not found at %s: run scripts/setup.sh first", p)
	}
	return p, nil
}

// renamed are deprecated size flags, in MB and KB, and the flags that
// replace them, which take a resource quantity.
var renamed = map[string]struct{ to, unit string }{
	"--dapr-http-max-request-size": {"--max-body-size", "Mi"},
	"--dapr-http-read-buffer-size": {"--read-buffer-size", "Ki"},
}

// dropped are flags whose value is never passed on.
var dropped = map[string]bool{"--placement-host-address": true}

// listenFlags are the address flags rundaprd adds when absent.
var listenFlags = []string{"--dapr-listen-addresses", "--dapr-internal-grpc-listen-address", "--metrics-listen-address"}

// Translate returns the daprd command line for the CLI's args: placement
// dropped, deprecated size flags renamed (or dropped when -1), and every
// listen address set to listen (default 127.0.0.1) unless args set it.
func Translate(args []string, listen string) []string {
	if listen == "" {
		listen = "127.0.0.1"
	}
	var out []string
	given := map[string]bool{}
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		if strings.HasPrefix(name, "-") && !strings.HasPrefix(name, "--") {
			name = "-" + name // daprd reads -flag as --flag
		}
		_, isRenamed := renamed[name]
		if (isRenamed || dropped[name]) && !hasValue && i+1 < len(args) {
			i++
			value = args[i]
		}
		switch {
		case dropped[name]:
			continue
		case isRenamed:
			if value != "" && value != "-1" && !strings.HasPrefix(value, "-") {
				out = append(out, renamed[name].to, value+renamed[name].unit)
			}
			continue
		}
		given[name] = true
		out = append(out, args[i])
	}
	for _, f := range listenFlags {
		if !given[f] {
			out = append(out, f, listen)
		}
	}
	return out
}
