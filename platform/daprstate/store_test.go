package daprstate_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"

	"shop/platform/daprstate"
	"shop/platform/daprstate/daprstatetest"
)

type counter struct{ N int }

func TestInsertOnce(t *testing.T) {
	ctx := context.Background()
	s := daprstate.New(daprstatetest.New(), "test")
	if err := daprstate.Insert(ctx, s, "k", counter{1}); err != nil {
		t.Fatalf("first Insert = %v; want nil", err)
	}
	if err := daprstate.Insert(ctx, s, "k", counter{2}); !errors.Is(err, daprstate.ErrConflict) {
		t.Fatalf("second Insert = %v; want ErrConflict", err)
	}
	got, found, err := daprstate.Get[counter](ctx, s, "k")
	if err != nil || !found || got.N != 1 {
		t.Fatalf("Get = %v, %v, %v; want {1}, true, nil", got, found, err)
	}
}

func TestUpdateConcurrentIncrementsLoseNothing(t *testing.T) {
	ctx := context.Background()
	fake := daprstatetest.New()
	s := daprstate.New(fake, "test", daprstate.WithAttempts(1000))
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := daprstate.Update(ctx, s, "c", func(c *counter, _ bool) error { c.N++; return nil }); err != nil {
				t.Errorf("Update = %v", err)
			}
		}()
	}
	wg.Wait()
	got, _, _ := daprstate.Get[counter](ctx, s, "c")
	if got.N != n {
		t.Fatalf("after %d concurrent increments N = %d; want %d", n, got.N, n)
	}
}

func TestUpdateFirstWriteOfAbsentKeyRaces(t *testing.T) {
	ctx := context.Background()
	fake := daprstatetest.New()
	s := daprstate.New(fake, "test")
	// A competing writer inserts the key between Update's read and write:
	// the insert must fail and be retried on the value now there.
	raced := false
	fake.BeforeWrite = func(key string) {
		if !raced {
			raced = true
			fake.BeforeWrite = nil
			if err := daprstate.Insert(ctx, s, key, counter{10}); err != nil {
				t.Errorf("competing Insert = %v", err)
			}
		}
	}
	got, err := daprstate.Update(ctx, s, "c", func(c *counter, found bool) error { c.N++; return nil })
	if err != nil || got.N != 11 {
		t.Fatalf("Update over a racing insert = %v, %v; want {11}, nil", got, err)
	}
}

func TestUpdateUnchangedWritesNothing(t *testing.T) {
	ctx := context.Background()
	fake := daprstatetest.New()
	s := daprstate.New(fake, "test")
	_ = daprstate.Insert(ctx, s, "c", counter{3})
	before := fake.Writes()
	got, err := daprstate.Update(ctx, s, "c", func(*counter, bool) error { return daprstate.ErrUnchanged })
	if err != nil || got.N != 3 || fake.Writes() != before {
		t.Fatalf("Update(ErrUnchanged) = %v, %v with %d writes; want {3}, nil, no write", got, err, fake.Writes()-before)
	}
	boom := errors.New("boom")
	if _, err := daprstate.Update(ctx, s, "c", func(*counter, bool) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Update(fn error) = %v; want boom", err)
	}
}

func TestUpdateGivesUpAfterAttempts(t *testing.T) {
	ctx := context.Background()
	fake := daprstatetest.New()
	s := daprstate.New(fake, "test", daprstate.WithAttempts(3))
	_ = daprstate.Insert(ctx, s, "c", counter{})
	// Every round loses its race: another writer changes the key first.
	rounds := 0
	fake.BeforeWrite = func(key string) {
		rounds++
		hook := fake.BeforeWrite
		fake.BeforeWrite = nil
		_, _ = daprstate.Update(ctx, s, key, func(c *counter, _ bool) error { c.N += 100; return nil })
		fake.BeforeWrite = hook
	}
	_, err := daprstate.Update(ctx, s, "c", func(c *counter, _ bool) error { c.N++; return nil })
	if !errors.Is(err, daprstate.ErrConflict) || rounds != 3 {
		t.Fatalf("Update that loses every round = %v after %d rounds; want ErrConflict after 3", err, rounds)
	}
}

func TestDeleteGuarded(t *testing.T) {
	ctx := context.Background()
	s := daprstate.New(daprstatetest.New(), "test")
	_ = daprstate.Insert(ctx, s, "c", counter{1})
	if err := daprstate.Delete(ctx, s, "c", func(c counter) bool { return c.N == 2 }); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := daprstate.Get[counter](ctx, s, "c"); !found {
		t.Fatal("Delete whose check refused removed the key")
	}
	if err := daprstate.Delete(ctx, s, "c", func(c counter) bool { return c.N == 1 }); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := daprstate.Get[counter](ctx, s, "c"); found {
		t.Fatal("Delete whose check approved kept the key")
	}
}

func TestGetBulk(t *testing.T) {
	ctx := context.Background()
	s := daprstate.New(daprstatetest.New(), "test")
	_ = daprstate.Insert(ctx, s, "a", counter{1})
	got, err := daprstate.GetBulk[counter](ctx, s, []string{"a", "b"})
	if err != nil || len(got) != 1 || got["a"].N != 1 {
		t.Fatalf("GetBulk = %v, %v; want map[a:{1}]", got, err)
	}
}

type set struct{ IDs []string }

// addID is an UpdateAll change that gives the same result when applied
// again, as UpdateAll requires.
func addID(key, id string) daprstate.Change {
	return daprstate.Edit(key, func(s *set, _ bool) error {
		if slices.Contains(s.IDs, id) {
			return daprstate.ErrUnchanged
		}
		s.IDs = append(s.IDs, id)
		return nil
	})
}

func TestUpdateAllConcurrentLoseNothing(t *testing.T) {
	ctx := context.Background()
	fake := daprstatetest.New()
	s := daprstate.New(fake, "test", daprstate.WithAttempts(1000))
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := strconv.Itoa(i)
			// Every writer adds to the shared "a", and half of them to
			// "b" too: a bulk save that loses on one key and wins on the
			// other must still end with each id once in each.
			changes := []daprstate.Change{addID("a", id), addID("own:"+id, id)}
			if i%2 == 0 {
				changes = append(changes, addID("b", id))
			}
			if err := daprstate.UpdateAll(ctx, s, changes...); err != nil {
				t.Errorf("UpdateAll = %v", err)
			}
		})
	}
	wg.Wait()
	for key, want := range map[string]int{"a": n, "b": n / 2, "own:7": 1} {
		got, _, err := daprstate.Get[set](ctx, s, key)
		if err != nil {
			t.Fatal(err)
		}
		ids := slices.Clone(got.IDs)
		slices.Sort(ids)
		if len(slices.Compact(ids)) != want || len(got.IDs) != want {
			t.Errorf("%s holds %d ids (%d distinct); want %d, each once", key, len(got.IDs), len(slices.Compact(ids)), want)
		}
	}
}

func TestUpdateAllLostRaceRetriesEveryKey(t *testing.T) {
	ctx := context.Background()
	fake := daprstatetest.New()
	s := daprstate.New(fake, "test")
	if err := daprstate.Insert(ctx, s, "b", set{IDs: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	// A competing writer changes "b" between UpdateAll's read and its
	// bulk save: the save of "a" goes through, that of "b" fails, and the
	// next round must add the id to "b" without adding it to "a" again.
	raced := false
	fake.BeforeWrite = func(key string) {
		if key == "b" && !raced {
			raced = true
			if _, err := daprstate.Update(ctx, s, "b", func(v *set, _ bool) error { v.IDs = append(v.IDs, "y"); return nil }); err != nil {
				t.Error(err)
			}
		}
	}
	if err := daprstate.UpdateAll(ctx, s, addID("a", "1"), addID("b", "1")); err != nil {
		t.Fatalf("UpdateAll = %v", err)
	}
	for key, want := range map[string][]string{"a": {"1"}, "b": {"x", "y", "1"}} {
		got, _, _ := daprstate.Get[set](ctx, s, key)
		if !slices.Equal(got.IDs, want) {
			t.Errorf("%s = %v; want %v", key, got.IDs, want)
		}
	}
}

func TestUpdateAllUnchangedWritesNothing(t *testing.T) {
	ctx := context.Background()
	fake := daprstatetest.New()
	s := daprstate.New(fake, "test")
	if err := daprstate.UpdateAll(ctx, s, addID("a", "1"), addID("b", "1")); err != nil {
		t.Fatal(err)
	}
	before := fake.Writes()
	if err := daprstate.UpdateAll(ctx, s, addID("a", "1"), addID("b", "1")); err != nil {
		t.Fatal(err)
	}
	if got := fake.Writes() - before; got != 0 {
		t.Fatalf("UpdateAll of values already changed wrote %d keys; want 0", got)
	}
}
