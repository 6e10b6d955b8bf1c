package userstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"shop/usersvc/internal/user"
)

// fakeState is a state store with the concurrency rules of Dapr's stores:
// an ETag must match, first-write without an ETag inserts only if absent,
// and a transaction applies all its operations or none. conflict is the
// answer of the store it imitates to a lost race.
type fakeState struct {
	mu       sync.Mutex
	data     map[string]fakeEntry
	seq      int
	conflict func(key string) error
	// beforeTx runs before each transaction, outside the lock.
	beforeTx func()
}

type fakeEntry struct {
	value []byte
	etag  string
}

// The answers daprd 1.14.4 gives through the SDK (platform/daprstate).
var stores = map[string]func(key string) error{
	"in-memory": func(key string) error {
		return fmt.Errorf("error saving state: %w", status.Error(codes.Aborted, "possible etag mismatch. error from state store: item already exists"))
	},
	"redis": func(key string) error {
		return fmt.Errorf("error saving state: %w", status.Errorf(codes.Internal, "failed saving state in state store users-state: failed to set key %s", key))
	},
}

func newFake(style string) *fakeState {
	return &fakeState{data: map[string]fakeEntry{}, conflict: stores[style]}
}

func (f *fakeState) GetState(_ context.Context, _, key string, _ map[string]string) (*dapr.StateItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.data[key]
	return &dapr.StateItem{Key: key, Value: e.value, Etag: e.etag}, nil
}

func (f *fakeState) check(it *dapr.SetStateItem) error {
	if strings.Contains(it.Key, "||") {
		return status.Errorf(codes.InvalidArgument, "input key/keyPrefix '%s' can't contain '||'", it.Key)
	}
	cur, exists := f.data[it.Key]
	switch {
	case it.Etag != nil && it.Etag.Value != "":
		if !exists || cur.etag != it.Etag.Value {
			return f.conflict(it.Key)
		}
	case it.Options != nil && it.Options.Concurrency == dapr.StateConcurrencyFirstWrite && exists:
		return f.conflict(it.Key)
	}
	return nil
}

func (f *fakeState) set(it *dapr.SetStateItem) {
	f.seq++
	f.data[it.Key] = fakeEntry{value: append([]byte(nil), it.Value...), etag: strconv.Itoa(f.seq)}
}

func (f *fakeState) SaveBulkState(_ context.Context, _ string, items ...*dapr.SetStateItem) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, it := range items {
		if err := f.check(it); err != nil {
			return err
		}
		f.set(it)
	}
	return nil
}

func (f *fakeState) ExecuteStateTransaction(_ context.Context, _ string, _ map[string]string, ops []*dapr.StateOperation) error {
	if f.beforeTx != nil {
		f.beforeTx()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, op := range ops {
		if op.Type != dapr.StateOperationTypeUpsert {
			return fmt.Errorf("fake: operation %v not supported", op.Type)
		}
		if err := f.check(op.Item); err != nil {
			return fmt.Errorf("error executing state transaction: %w", err)
		}
	}
	for _, op := range ops {
		f.set(op.Item)
	}
	return nil
}

func (f *fakeState) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for k := range f.data {
		keys = append(keys, k)
	}
	return keys
}

func newUser(id, email string) user.User {
	return user.User{ID: id, Email: email, Name: "Ann", Role: user.RoleCustomer, PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)}
}

func forEachStore(t *testing.T, test func(t *testing.T, f *fakeState, s *Store)) {
	for style := range stores {
		t.Run(style, func(t *testing.T) {
			f := newFake(style)
			test(t, f, New(f, "users-state"))
		})
	}
}

func TestCreateAndRead(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fakeState, s *Store) {
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
	forEachStore(t, func(t *testing.T, f *fakeState, s *Store) {
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
		users := 0
		for _, k := range f.keys() {
			if strings.HasPrefix(k, "user:") {
				users++
			}
		}
		if users != 1 {
			t.Errorf("%d user records stored; want 1", users)
		}
	})
}

// crash leaves what a registration that died after claiming the email
// leaves: a claim without an account.
func crash(t *testing.T, s *Store, u user.User, at time.Time) {
	t.Helper()
	now := s.now
	s.now = func() time.Time { return at }
	defer func() { s.now = now }()
	mine := fmt.Sprintf(`{"user_id":%q,"claimed_at":%q}`, u.ID, at.UTC().Format(time.RFC3339Nano))
	if err := s.client.SaveBulkState(context.Background(), s.name, item(emailKey(u.Email), []byte(mine), "")); err != nil {
		t.Fatal(err)
	}
}

func TestStaleClaimIsTakenOver(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fakeState, s *Store) {
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
	})
}

func TestFreshClaimIsNotTakenOver(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fakeState, s *Store) {
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
	forEachStore(t, func(t *testing.T, f *fakeState, s *Store) {
		ctx := context.Background()
		now := time.Now()
		s.now = func() time.Time { return now }
		f.beforeTx = func() {
			f.beforeTx = nil
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
	})
}

func TestEmailKeysAreSafe(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fakeState, s *Store) {
		ctx := context.Background()
		for i, email := range []string{"a||b@example.com", "a/b@example.com", "a%2Fb@example.com"} {
			if err := s.Create(ctx, newUser(fmt.Sprint("u", i), email)); err != nil {
				t.Errorf("Create(%q) = %v", email, err)
			}
			if got, err := s.GetByEmail(ctx, email); err != nil || got.Email != email {
				t.Errorf("GetByEmail(%q) = %+v, %v", email, got, err)
			}
		}
	})
}

func TestUpdate(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fakeState, s *Store) {
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
	forEachStore(t, func(t *testing.T, f *fakeState, s *Store) {
		ctx := context.Background()
		if err := s.Create(ctx, newUser("u1", "ann@example.com")); err != nil {
			t.Fatal(err)
		}
		_, err := s.Update(ctx, "u1", func(u *user.User) error {
			// Someone else writes every time.
			f.mu.Lock()
			f.set(&dapr.SetStateItem{Key: userKey("u1"), Value: f.data[userKey("u1")].value})
			f.mu.Unlock()
			return nil
		})
		if !errors.Is(err, user.ErrConflict) {
			t.Errorf("Update() = %v; want ErrConflict", err)
		}
	})
}
