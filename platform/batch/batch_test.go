package batch_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"shop/platform/batch"
)

func TestItemsArrivingDuringAWriteShareTheNext(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var writes [][]int
	q := batch.New(time.Minute, 100, func(_ context.Context, items []int) error {
		mu.Lock()
		first := len(writes) == 0
		writes = append(writes, items)
		mu.Unlock()
		if first {
			<-release
		}
		return nil
	})
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := q.Do(context.Background(), 0); err != nil {
			t.Error(err)
		}
	})
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(writes) == 1 })
	for i := 1; i <= 10; i++ {
		wg.Go(func() {
			if err := q.Do(context.Background(), i); err != nil {
				t.Error(err)
			}
		})
	}
	waitFor(t, func() bool { return q.Pending() == 10 })
	close(release)
	wg.Wait()
	if len(writes) != 2 || len(writes[0]) != 1 || len(writes[1]) != 10 {
		t.Fatalf("writes = %v; want [[0] [the ten others]]", writes)
	}
}

func TestEveryCallerGetsItsWritesError(t *testing.T) {
	boom := errors.New("boom")
	q := batch.New(time.Minute, 100, func(context.Context, []string) error { return boom })
	if err := q.Do(context.Background(), "a"); !errors.Is(err, boom) {
		t.Fatalf("Do = %v; want the write's error", err)
	}
}

func TestACallerThatGivesUpLeavesTheWriteRunning(t *testing.T) {
	release := make(chan struct{})
	wrote := make(chan []string, 1)
	q := batch.New(time.Minute, 100, func(ctx context.Context, items []string) error {
		<-release
		wrote <- items
		return ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Do(ctx, "a") }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Do = %v; want context.Canceled", err)
	}
	close(release)
	if items := <-wrote; len(items) != 1 || items[0] != "a" {
		t.Fatalf("write got %v; want [a]", items)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		runtime.Gosched()
	}
}

func TestKeysWriteApartAndLeaveNothingBehind(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 2)
	k := batch.NewKeyed(time.Minute, 100, func(_ context.Context, key string, items []int) error {
		started <- key
		<-release
		return nil
	})
	var wg sync.WaitGroup
	for _, key := range []string{"a", "b"} {
		wg.Go(func() {
			if err := k.Do(context.Background(), key, 1); err != nil {
				t.Error(err)
			}
		})
	}
	// Both writes run at once: one key's write does not wait for another's.
	got := map[string]bool{<-started: true, <-started: true}
	if !got["a"] || !got["b"] {
		t.Fatalf("writes started for %v; want a and b", got)
	}
	close(release)
	wg.Wait()
	waitFor(t, func() bool { return batch.KeysHeld(k) == 0 })
}

func TestAWriteCarriesAtMostMost(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var sizes []int
	q := batch.New(time.Minute, 4, func(_ context.Context, items []int) error {
		mu.Lock()
		first := len(sizes) == 0
		sizes = append(sizes, len(items))
		mu.Unlock()
		if first {
			<-release
		}
		return nil
	})
	var wg sync.WaitGroup
	wg.Go(func() { _ = q.Do(context.Background(), 0) })
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(sizes) == 1 })
	for i := 1; i <= 10; i++ {
		wg.Go(func() { _ = q.Do(context.Background(), i) })
	}
	waitFor(t, func() bool { return q.Pending() == 10 })
	close(release)
	wg.Wait()
	if want := []int{1, 4, 4, 2}; !slices.Equal(sizes, want) {
		t.Fatalf("write sizes %v; want %v", sizes, want)
	}
}
