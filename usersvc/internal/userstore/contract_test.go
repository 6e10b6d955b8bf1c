package userstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"shop/platform/daprstate"
	"shop/platform/daprstate/daprstatetest"
	"shop/usersvc/internal/user"
)

// The contract of the store, run against daprstatetest's fake here, and
// against each profile's real sidecar by e2e/contract_test.go.
func TestContractFake(t *testing.T)    { runContract(t, daprstatetest.FakeComponent("users-state")) }
func TestContractSidecar(t *testing.T) { runContract(t, daprstatetest.Sidecar(t, "users-state")) }

func runContract(t *testing.T, c daprstatetest.Component) {
	client, name := c.Client, c.Name
	ctx := context.Background()
	s := New(client, name)
	run := fmt.Sprintf("ct%d", time.Now().UnixNano())
	email := func(n string) string { return run + "-" + n + "@example.com" }
	id := func(n string) string { return run + "-" + n }

	t.Run("one account per email, first-write", func(t *testing.T) {
		u := newUser(id("ann"), email("ann"))
		if err := s.Create(ctx, u); err != nil {
			t.Fatalf("Create() = %v", err)
		}
		if err := s.Create(ctx, newUser(id("ann2"), email("ann"))); !errors.Is(err, user.ErrEmailTaken) {
			t.Errorf("Create(same email) = %v; want ErrEmailTaken", err)
		}
		if _, err := s.Get(ctx, id("ann2")); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("the losing registration stored an account: %v", err)
		}
		if got, err := s.GetByEmail(ctx, email("ann")); err != nil || got != u {
			t.Errorf("GetByEmail() = %+v, %v; want %+v", got, err, u)
		}
	})

	t.Run("concurrent registrations of one email: one account", func(t *testing.T) {
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = s.Create(ctx, newUser(id(fmt.Sprint("race", i)), email("race"))) })
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Errorf("racers %d and %d both registered", won, i)
			case err == nil:
				won = i
			case !errors.Is(err, user.ErrEmailTaken):
				t.Errorf("racer %d: %v; want ErrEmailTaken", i, err)
			}
		}
		got, err := s.GetByEmail(ctx, email("race"))
		if won < 0 || err != nil || got.ID != id(fmt.Sprint("race", won)) {
			t.Fatalf("winner %d, GetByEmail() = %+v, %v", won, got, err)
		}
		for i := range n {
			if _, found, err := s.read(ctx, id(fmt.Sprint("race", i))); err != nil || found != (i == won) {
				t.Errorf("racer %d: record found %v, %v; want only the winner's", i, found, err)
			}
		}
	})

	t.Run("a stale claim is taken over, and the slow registration voided", func(t *testing.T) {
		dead := newUser(id("dead"), email("stale"))
		if err := daprstate.Insert(ctx, s.state, emailKey(dead.Email), claim{UserID: dead.ID, ClaimedAt: time.Now().Add(-StaleClaimAfter - time.Second).UTC()}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetByEmail(ctx, dead.Email); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("GetByEmail(claim without account) = %v; want ErrNotFound", err)
		}
		if err := s.Create(ctx, newUser(id("new"), email("stale"))); err != nil {
			t.Fatalf("Create() over a stale claim = %v", err)
		}
		if err := daprstate.Insert(ctx, s.state, userKey(dead.ID), toRecord(dead)); !errors.Is(err, daprstate.ErrConflict) {
			t.Errorf("the slow registration's account insert = %v; want a conflict (its id is void)", err)
		}
		if got, err := s.GetByEmail(ctx, email("stale")); err != nil || got.ID != id("new") {
			t.Errorf("GetByEmail() = %+v, %v; want the new account", got, err)
		}
	})

	t.Run("update is guarded by the ETag", func(t *testing.T) {
		calls := 0
		got, err := s.Update(ctx, id("ann"), func(u *user.User) error {
			if calls++; calls == 1 {
				if _, err := s.Update(ctx, id("ann"), func(u *user.User) error { u.Role = user.RoleAdmin; return nil }); err != nil {
					return err
				}
			}
			u.Name = "Ann B."
			return nil
		})
		if err != nil || calls != 2 || got.Name != "Ann B." || got.Role != user.RoleAdmin {
			t.Errorf("Update() losing one race = %+v, %v after %d calls; want both writes after 2", got, err, calls)
		}
		if _, err := s.Update(ctx, id("nobody"), func(*user.User) error { return nil }); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("Update(unknown) = %v; want ErrNotFound", err)
		}
		if _, err := s.Get(ctx, id("nobody")); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("Update(unknown) created it: %v", err)
		}
	})
}
