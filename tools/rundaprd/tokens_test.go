package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// group starts a process that leads a process group of its own, as the
// Dapr CLI does for a run, and returns its pid (the group's id).
func group(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd.Process.Pid
}

func TestGroupKeyNamesOneRun(t *testing.T) {
	run, other := group(t), group(t)
	k1, err := groupKey(run)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := groupKey(run)
	k3, _ := groupKey(other)
	if k1 != k2 || k1 == k3 || !strings.HasPrefix(k1, strconv.Itoa(run)+"-") {
		t.Errorf("groupKey: %q, again %q, another group %q; want the same key for one group and another for the other", k1, k2, k3)
	}
	// A group whose leader is gone has no run to name.
	if k, err := groupKey(1 << 22); err == nil {
		t.Errorf("groupKey of no process = %q; want an error", k)
	}
}

func TestRunSecretIsSharedWithinARunAndNewForTheNext(t *testing.T) {
	dir := t.TempDir()
	key, err := groupKey(group(t))
	if err != nil {
		t.Fatal(err)
	}
	// The sidecar and its app ask at the same moment.
	secrets := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range secrets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := runSecret(dir, key)
			if err != nil {
				t.Error(err)
			}
			secrets[i] = s
		}()
	}
	wg.Wait()
	for i, s := range secrets {
		if len(s) != 32 || !bytes.Equal(s, secrets[0]) {
			t.Fatalf("runSecret #%d = %x; want the same 32 bytes as #0 (%x)", i, s, secrets[0])
		}
	}
	// A later run (another process group) gets a secret of its own, and the
	// file of a group that is gone is removed.
	stale := filepath.Join(dir, "999999999-gone")
	if err := os.WriteFile(stale, []byte(strings.Repeat("ab", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	other, err := runSecret(dir, "1-other")
	if err != nil || bytes.Equal(other, secrets[0]) {
		t.Errorf("runSecret(another run) = %x, %v; want a new secret", other, err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("secret of a finished run still there: %v", err)
	}
}

func TestTokensDifferPerAppAndPurpose(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	a1, d1 := Tokens(secret, "usersvc")
	a2, d2 := Tokens(secret, "ordersvc")
	if a1 == d1 || a1 == a2 || d1 == d2 || len(a1) != 64 {
		t.Errorf("tokens %s %s %s %s; want four distinct 64-character values", a1, d1, a2, d2)
	}
	if again, _ := Tokens(secret, "usersvc"); again != a1 {
		t.Error("Tokens is not deterministic")
	}
}

func TestWithTokens(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	env := []string{"PATH=/bin", "APP_API_TOKEN=old", "DAPR_API_TOKEN=old"}
	app, dapr := Tokens(secret, "usersvc")
	if got, want := withTokens(env, "usersvc", secret), []string{"PATH=/bin", "APP_API_TOKEN=" + app, "DAPR_API_TOKEN=" + dapr}; !slices.Equal(got, want) {
		t.Errorf("withTokens(usersvc) = %v; want %v", got, want)
	}
	if got := withTokens(env, "", secret); !slices.Equal(got, []string{"PATH=/bin"}) {
		t.Errorf("withTokens(no app) = %v; want both tokens removed", got)
	}
}

func TestFlagValue(t *testing.T) {
	args := []string{"--app-id", "usersvc", "-app-port=8081", "--log-as-json"}
	for name, want := range map[string]string{"--app-id": "usersvc", "--app-port": "8081", "--config": ""} {
		if got := flagValue(args, name); got != want {
			t.Errorf("flagValue(%s) = %q; want %q", name, got, want)
		}
	}
}
