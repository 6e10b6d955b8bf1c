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
// It gives every sidecar with an app, and that app, a fresh APP_API_TOKEN
// and DAPR_API_TOKEN for each run (tokens.go): the app command of a run-file
// entry is started as `rundaprd --run-app <command>...`, which sets both
// tokens of the entry's app (APP_ID, which the CLI sets) and runs the
// command. A sidecar without an app (the gateway) gets neither, so its
// clients call it without a token.
//
// The run file points an entry at rundaprd with runtimePath: .bin/rundaprd,
// where scripts/setup.sh installs it as .dapr/bin/daprd. The real daprd is
// $DAPRD, or ~/.dapr/bin/daprd.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "rundaprd:", err)
		os.Exit(1)
	}
}

// run execs daprd, or with --run-app the app command, with the run's
// tokens in its environment. It returns only on failure.
func run(args []string) error {
	secret, err := currentRunSecret()
	if err != nil {
		return fmt.Errorf("the run's token secret: %w", err)
	}
	if len(args) > 0 && args[0] == "--run-app" {
		if len(args) < 2 {
			return errors.New("--run-app needs a command")
		}
		appID := os.Getenv("APP_ID")
		if appID == "" {
			return errors.New("--run-app: APP_ID is not set (the Dapr CLI sets it for a run-file entry's command)")
		}
		path, err := exec.LookPath(args[1])
		if err != nil {
			return err
		}
		return syscall.Exec(path, args[1:], withTokens(os.Environ(), appID, secret))
	}
	daprd, err := realDaprd(os.Getenv, os.UserHomeDir)
	if err != nil {
		return err
	}
	args = Translate(args, os.Getenv("DAPR_LISTEN_ADDRESS"))
	appID := ""
	if flagValue(args, "--app-id") != "" {
		if port, err := strconv.Atoi(flagValue(args, "--app-port")); err == nil && port > 0 {
			appID = flagValue(args, "--app-id")
		}
	}
	if err := syscall.Exec(daprd, append([]string{daprd}, args...), withTokens(os.Environ(), appID, secret)); err != nil {
		return fmt.Errorf("exec %s: %w", daprd, err)
	}
	return nil
}

// currentRunSecret is the secret of the run rundaprd is part of, kept next
// to the rundaprd executable (.bin/rundaprd/runs).
func currentRunSecret() ([]byte, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	key, err := runKey()
	if err != nil {
		return nil, err
	}
	return runSecret(filepath.Join(filepath.Dir(exe), "..", "..", "runs"), key)
}

// flagValue returns the value of flag name in args ("--name value" or
// "--name=value", one or two dashes), or "".
func flagValue(args []string, name string) string {
	for i, a := range args {
		n, v, hasValue := strings.Cut(a, "=")
		if strings.HasPrefix(n, "-") && !strings.HasPrefix(n, "--") {
			n = "-" + n
		}
		if n != name {
			continue
		}
		if hasValue {
			return v
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
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
