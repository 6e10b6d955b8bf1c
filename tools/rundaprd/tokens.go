package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// The tokens between a sidecar and its app, as daprd, the Dapr SDKs and the
// shop's apps read them from the environment.
const (
	appTokenEnv  = "APP_API_TOKEN"  // the sidecar sends it to the app
	daprTokenEnv = "DAPR_API_TOKEN" // the app sends it to the sidecar
)

// A run is one `dapr run -f`: the CLI makes itself the leader of a new
// process group, and every daprd and app command it starts is in that
// group. The run's secret is a file named for the group (its leader's pid
// and start time, so a reused pid names another file), created by whichever
// process of the run asks first; the tokens of each app are derived from it,
// so the sidecar and its app get the same values without waiting for each
// other, and a new run never reads an earlier run's secret.

// runKey names the current process group's run: its leader's pid and the
// time it started. Under `dapr run -f` the leader is the CLI itself, alive
// for the whole run.
func runKey() (string, error) { return groupKey(syscall.Getpgrp()) }

// groupKey names the run of process group pgid.
func groupKey(pgid int) (string, error) {
	start, err := processStart(pgid)
	if err != nil {
		return "", fmt.Errorf("start time of process group leader %d (rundaprd runs under `dapr run -f`, whose CLI leads the group): %w", pgid, err)
	}
	return fmt.Sprintf("%d-%s", pgid, start), nil
}

// processStart returns a string that differs between two processes that had
// the same pid: on Linux the boot id and start tick from /proc, elsewhere
// what ps reports as the start time.
func processStart(pid int) (string, error) {
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Field 22 (starttime) counts from the ")" that ends field 2.
		i := bytes.LastIndexByte(stat, ')')
		fields := strings.Fields(string(stat[i+1:]))
		if i < 0 || len(fields) < 20 {
			return "", errors.New("unexpected /proc stat format")
		}
		boot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
		return strings.TrimSpace(string(boot)) + "-" + fields[19], nil
	}
	out, err := exec.Command("ps", "-o", "lstart=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return "", err
	}
	s := strings.Join(strings.Fields(string(out)), "_")
	if s == "" {
		return "", errors.New("ps reported no start time")
	}
	return strings.NewReplacer("/", "_", ":", "_").Replace(s), nil
}

// runSecret returns the secret of run key in dir, creating it when this is
// the first process of the run to ask. Files of runs whose process group no
// longer exists are removed when a new one is created.
func runSecret(dir, key string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, key)
	if s, err := readSecret(path); !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}
	tmp, err := os.CreateTemp(dir, ".new-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	_, werr := tmp.WriteString(hex.EncodeToString(secret))
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		return nil, errors.Join(werr, cerr)
	}
	// Link is atomic and fails when the name exists: of two processes
	// racing, one creates the secret and both read it.
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return readSecret(path)
	} else if err != nil {
		return nil, err
	}
	removeStale(dir, key)
	return secret, nil
}

func readSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(s) != 32 {
		return nil, fmt.Errorf("run secret %s is malformed", path)
	}
	return s, nil
}

// removeStale deletes the secrets of process groups that are gone.
func removeStale(dir, keep string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		pid, _, ok := strings.Cut(e.Name(), "-")
		n, err := strconv.Atoi(pid)
		if e.Name() == keep || !ok || err != nil || n <= 0 {
			continue
		}
		if errors.Is(syscall.Kill(-n, 0), syscall.ESRCH) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// Tokens derives app appID's two tokens from the run's secret.
func Tokens(secret []byte, appID string) (appToken, daprToken string) {
	derive := func(purpose string) string {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(purpose + "\x00" + appID))
		return hex.EncodeToString(m.Sum(nil))
	}
	return derive(appTokenEnv), derive(daprTokenEnv)
}

// withTokens returns env with the tokens of appID set, or with both removed
// when appID is "" (a sidecar without an app: the gateway, which clients
// call without a token).
func withTokens(env []string, appID string, secret []byte) []string {
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		if !strings.HasPrefix(kv, appTokenEnv+"=") && !strings.HasPrefix(kv, daprTokenEnv+"=") {
			out = append(out, kv)
		}
	}
	if appID == "" {
		return out
	}
	app, dapr := Tokens(secret, appID)
	return append(out, appTokenEnv+"="+app, daprTokenEnv+"="+dapr)
}
