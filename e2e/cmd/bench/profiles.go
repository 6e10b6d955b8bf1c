package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// profiles places orders at the profile rate and meanwhile takes a CPU
// profile of every app and sidecar (the system was started with
// harness.Options.Profiling): <out>/pprof/<process>.pprof, and the top
// functions of each as <process>.top.txt (go tool pprof -top) and
// <process>.cum.txt (-top -cum).
func (b *bench) profiles(ctx context.Context, admin string) error {
	customers, skus, err := b.buyers(ctx, admin)
	if err != nil {
		return err
	}
	dir := filepath.Join(b.cfg.out, "pprof")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var names []string
	for name := range b.shop.sys.Pids() {
		if b.shop.sys.ProfileURL(name) != "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	secs := int(b.cfg.pprofDuration.Seconds())
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	wg.Add(1)
	var run orderRun
	var runErr error
	go func() {
		defer wg.Done()
		// Two seconds of load before the profiles start, and two after.
		run, runErr = b.placeOrders(ctx, customers, skus, b.cfg.pprofRate, b.cfg.pprofDuration+4*time.Second, b.cfg.grace)
	}()
	select {
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
	}
	client := &http.Client{Timeout: b.cfg.pprofDuration + 30*time.Second}
	var pw sync.WaitGroup
	for i, name := range names {
		pw.Add(1)
		go func() {
			defer pw.Done()
			url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", b.shop.sys.ProfileURL(name), secs)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				errs[i] = err
				return
			}
			status, body, err := send(client, req)
			if err == nil && status != http.StatusOK {
				err = fmt.Errorf("GET %s = %d %s", url, status, body)
			}
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, name+".pprof"), body, 0o644)
			}
			errs[i] = err
		}()
	}
	pw.Wait()
	wg.Wait()
	if runErr != nil {
		return runErr
	}
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("profile of %s: %w", names[i], err)
		}
	}
	b.recordOrders("profile/"+rateKey(b.cfg.pprofRate), run)
	b.usage[fmt.Sprintf("profiled at %s/s", rateKey(b.cfg.pprofRate))] = run.cpuUsage
	b.logOrders("profiled", b.cfg.pprofRate, run)
	for _, name := range names {
		for suffix, args := range map[string][]string{".top.txt": {"-top"}, ".cum.txt": {"-top", "-cum"}} {
			args = append(args, "-nodecount=40", filepath.Join(dir, name+".pprof"))
			top, err := exec.CommandContext(ctx, "go", append([]string{"tool", "pprof"}, args...)...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("go tool pprof %s: %w\n%s", name, err, top)
			}
			if err := os.WriteFile(filepath.Join(dir, name+suffix), top, 0o644); err != nil {
				return err
			}
		}
	}
	b.logf("profiles of %d processes over %ds at %s orders/s: %s", len(names), secs, rateKey(b.cfg.pprofRate), dir)
	return nil
}
