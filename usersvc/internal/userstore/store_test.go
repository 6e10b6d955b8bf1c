package userstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"shop/platform/daprstate"
	"shop/platform/daprstate/daprstatetest"
	"shop/usersvc/internal/user"
)

func newUser(id, email string) user.User {
	return user.User{ID: id, Email: email, Name: "Ann", Role: user.RoleCustomer, PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)}
}

func forEachStore(t *testing.T, test func(t *testing.T, f *daprstatetest.Fake, s *Store)) {
	f := daprstatetest.New()
	test(t, f, New(f, "users-state"))
}

func userKeys(f *daprstatetest.Fake) (users, voids int) {
	for k, v := range f.Keys() {
		if strings.HasPrefix(k, "user:") {
			if strings.Contains(string(v), `"void":true`) {
				voids++
			} else {
				users++
			}
		}
	}
	return users, voids
}

func TestCreateAndRead(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *daprstatetest.Fake, s *Store) {
		ctx := context.Background()
		u := newUser("u1", "ann@example.com")
		if err := s.Create(ctx, u); err != nil {
			t.Fatalf("Create() = %v", err)
		}
		for name, get := range map[string]func() (user.User, error){
			"Get":        func() (user.User, error) { return s.Get(ctx, "u1") },
			"GetByEmail": func() (user.User, error) { return s.GetByEmail(ctx, "ann@example.com") },
		} {
			got, err := get()
			if err != nil || got != u {
				t.Errorf("%s() = %+v, %v; want %+v", name, got, err, u)
			}
		}
		if _, err := s.Get(ctx, "nobody"); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("Get(unknown) = %v; want ErrNotFound", err)
		}
		if _, err := s.GetByEmail(ctx, "bob@example.com"); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("GetByEmail(unknown) = %v; want ErrNotFound", err)
		}
		if err := s.Create(ctx, newUser("u2", "ann@example.com")); !errors.Is(err, user.ErrEmailTaken) {
			t.Errorf("Create(same email) = %v; want ErrEmailTaken", err)
		}
		if _, err := s.Get(ctx, "u2"); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("the losing registration was stored: Get(u2) = %v", err)
		}
	})
}

func TestCreateConcurrentSameEmail(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *daprstatetest.Fake, s *Store) {
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = s.Create(context.Background(), newUser(fmt.Sprint("u", i), "same@example.com")) })
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Errorf("Create() succeeded for u%d and u%d", won, i)
			case err == nil:
				won = i
			case !errors.Is(err, user.ErrEmailTaken):
				t.Errorf("Create(u%d) = %v; want nil or ErrEmailTaken", i, err)
			}
		}
		if won < 0 {
			t.Fatal("no Create() succeeded")
		}
		got, err := s.GetByEmail(context.Background(), "same@example.com")
		if err != nil || got.ID != fmt.Sprint("u", won) {
			t.Errorf("GetByEmail() = %+v, %v; want u%d", got, err, won)
		}
		if users, voids := userKeys(f); users != 1 || voids != 0 {
			t.Errorf("%d user records and %d void ones stored; want 1 and 0", users, voids)
		}
	})
}

// crash leaves what a registration that died after claiming the email
// leaves: a claim without an account.
func crash(t *testing.T, s *Store, u user.User, at time.Time) {
	t.Helper()
	if err := daprstate.Insert(context.Background(), s.state, emailKey(u.Email), claim{UserID: u.ID, ClaimedAt: at.UTC()}); err != nil {
		t.Fatal(err)
	}
}

func TestStaleClaimIsTakenOver(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *daprstatetest.Fake, s *Store) {
		ctx := context.Background()
		now := time.Now()
		s.now = func() time.Time { return now }
		crash(t, s, newUser("dead", "ann@example.com"), now.Add(-StaleClaimAfter-time.Second))
		if _, err := s.GetByEmail(ctx, "ann@example.com"); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("GetByEmail(claim without account) = %v; want ErrNotFound", err)
		}
		if err := s.Create(ctx, newUser("u1", "ann@example.com")); err != nil {
			t.Fatalf("Create() over a stale claim = %v; want it taken over", err)
		}
		if got, err := s.GetByEmail(ctx, "ann@example.com"); err != nil || got.ID != "u1" {
			t.Errorf("GetByEmail() = %+v, %v; want u1", got, err)
		}
		if _, err := s.Get(ctx, "dead"); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("Get(voided id) = %v; want ErrNotFound", err)
		}
		if users, voids := userKeys(f); users != 1 || voids != 1 {
			t.Errorf("%d user records and %d void ones; want 1 and the dead registration's void", users, voids)
		}
	})
}

// A takeover that crashed after voiding the old id and before writing the
// claim is carried on by the next registration.
func TestCrashedTakeoverIsCarriedOn(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *daprstatetest.Fake, s *Store) {
		ctx := context.Background()
		now := time.Now()
		s.now = func() time.Time { return now }
		crash(t, s, newUser("dead", "ann@example.com"), now.Add(-StaleClaimAfter-time.Second))
		claims := 0
		f.FailWrite = func(key string) error {
			// 1: the insert that finds the claim, 2: the takeover's write
			if key == emailKey("ann@example.com") {
				if claims++; claims == 2 {
					return errors.New("crash")
				}
			}
			return nil
		}
		if err := s.Create(ctx, newUser("u1", "ann@example.com")); err == nil {
			t.Fatal("Create() with the claim unwritable succeeded")
		}
		f.FailWrite = nil
		if users, voids := userKeys(f); users != 0 || voids != 1 {
			t.Fatalf("after the crash: %d users, %d voids; want the old id voided only", users, voids)
		}
		if err := s.Create(ctx, newUser("u2", "ann@example.com")); err != nil {
			t.Fatalf("Create() after a crashed takeover = %v", err)
		}
		if got, err := s.GetByEmail(ctx, "ann@example.com"); err != nil || got.ID != "u2" {
			t.Errorf("GetByEmail() = %+v, %v; want u2", got, err)
		}
	})
}

func TestFreshClaimIsNotTakenOver(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *daprstatetest.Fake, s *Store) {
		now := time.Now()
		s.now = func() time.Time { return now }
		crash(t, s, newUser("inflight", "ann@example.com"), now.Add(-time.Second))
		if err := s.Create(context.Background(), newUser("u1", "ann@example.com")); !errors.Is(err, user.ErrEmailTaken) {
			t.Errorf("Create() over a claim of a second ago = %v; want ErrEmailTaken", err)
		}
	})
}

// A registration so slow that its claim went stale and was taken over must
// not commit a second account with the same email.
func TestSlowRegistrationLosesItsTakenOverClaim(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *daprstatetest.Fake, s *Store) {
		ctx := context.Background()
		now := time.Now()
		s.now = func() time.Time { return now }
		stalled := false
		f.BeforeWrite = func(key string) {
			if key != userKey("slow") || stalled {
				return
			}
			stalled = true // the slow registration stalls before storing its account
			now = now.Add(StaleClaimAfter + time.Second)
			if err := s.Create(ctx, newUser("fast", "ann@example.com")); err != nil {
				t.Errorf("Create(fast) = %v; want it to take over the stale claim", err)
			}
		}
		if err := s.Create(ctx, newUser("slow", "ann@example.com")); !errors.Is(err, user.ErrEmailTaken) {
			t.Errorf("Create(slow) = %v; want ErrEmailTaken", err)
		}
		if _, err := s.Get(ctx, "slow"); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("Get(slow) = %v; want no account", err)
		}
		if got, err := s.GetByEmail(ctx, "ann@example.com"); err != nil || got.ID != "fast" {
			t.Errorf("GetByEmail() = %+v, %v; want fast", got, err)
		}
		if users, _ := userKeys(f); users != 1 {
			t.Errorf("%d accounts stored; want only fast's (no orphan)", users)
		}
	})
}

func TestEmailKeysAreSafe(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *daprstatetest.Fake, s *Store) {
		ctx := context.Background()
		for i, email := range []string{"a||b@example.com", "a/b@example.com", "a%2Fb@example.com"} {
			if err := s.Create(ctx, newUser(fmt.Sprint("u", i), email)); err != nil {
				t.Errorf("Create(%q) = %v", email, err)
			}
			if got, err := s.GetByEmail(ctx, email); err != nil || got.Email != email {
				t.Errorf("GetByEmail(%q) = %+v, %v", email, got, err)
			}
		}
		for k := range f.Keys() {
			if strings.Contains(k, "||") {
				t.Errorf("key %q contains ||, which Dapr refuses", k)
			}
		}
	})
}

func TestUpdate(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *daprstatetest.Fake, s *Store) {
		ctx := context.Background()
		if err := s.Create(ctx, newUser("u1", "ann@example.com")); err != nil {
			t.Fatal(err)
		}
		// The first attempt loses to a concurrent write; the retry wins.
		calls := 0
		got, err := s.Update(ctx, "u1", func(u *user.User) error {
			calls++
			if calls == 1 {
				if _, err := s.Update(ctx, "u1", func(u *user.User) error { u.Role = user.RoleAdmin; return nil }); err != nil {
					t.Fatal(err)
				}
			}
			u.Name = "Ann B."
			return nil
		})
		if err != nil || got.Name != "Ann B." || calls != 2 {
			t.Fatalf("Update() = %+v, %v after %d calls; want the new name after 2", got, err, calls)
		}
		stored, _ := s.Get(ctx, "u1")
		if stored.Name != "Ann B." || stored.Role != user.RoleAdmin {
			t.Errorf("stored %+v; want both writes (no lost update)", stored)
		}
		if _, err := s.Update(ctx, "nobody", func(*user.User) error { return nil }); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("Update(unknown) = %v; want ErrNotFound", err)
		}
		if _, err := s.Update(ctx, "u1", func(u *user.User) error { u.Email = "x@example.com"; return nil }); err == nil {
			t.Error("Update() changing the email = nil error")
		}
		boom := errors.New("boom")
		if _, err := s.Update(ctx, "u1", func(*user.User) error { return boom }); !errors.Is(err, boom) {
			t.Errorf("Update(fn fails) = %v; want fn's error", err)
		}
	})
}

func TestUpdateGivesUpUnderConstantConflict(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *daprstatetest.Fake, s *Store) {
		ctx := context.Background()
		if err := s.Create(ctx, newUser("u1", "ann@example.com")); err != nil {
			t.Fatal(err)
		}
		_, err := s.Update(ctx, "u1", func(u *user.User) error {
			// Someone else writes every time.
			it, _ := f.GetState(ctx, "users-state", userKey("u1"), nil)
			return f.SaveStateWithETag(ctx, "users-state", userKey("u1"), it.Value, it.Etag, nil)
		})
		if !errors.Is(err, user.ErrConflict) {
			t.Errorf("Update() = %v; want ErrConflict", err)
		}
	})
}
