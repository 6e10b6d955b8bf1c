package user_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"shop/platform/auth"
	"shop/platform/validation"
	"shop/usersvc/internal/password"
	"shop/usersvc/internal/user"
	"shop/usersvc/internal/user/usertest"
)

func TestRolesAreTheTokenRoles(t *testing.T) {
	if user.RoleCustomer != auth.RoleCustomer || user.RoleAdmin != auth.RoleAdmin {
		t.Errorf("roles %q, %q; want platform/auth's %q, %q", user.RoleCustomer, user.RoleAdmin, auth.RoleCustomer, auth.RoleAdmin)
	}
}

func fields(err error) []string {
	var v validation.Errors
	if !errors.As(err, &v) {
		return nil
	}
	var out []string
	for _, f := range v {
		out = append(out, f.Field)
	}
	return out
}

func TestValidateRegistration(t *testing.T) {
	const ok8 = "12345678"
	tests := []struct {
		email, password, name string
		bad                   string // comma-separated fields, "" = valid
	}{
		{"ann@example.com", ok8, "Ann", ""},
		{"a@b", ok8, "Ann", ""},
		{"ann+tag@sub.example.co.uk", ok8, "Ann", ""},
		{"", ok8, "Ann", "email"},
		{"ann", ok8, "Ann", "email"},
		{"ann@", ok8, "Ann", "email"},
		{"@example.com", ok8, "Ann", "email"},
		{"ann example@example.com", ok8, "Ann", "email"},
		{"Ann <ann@example.com>", ok8, "Ann", "email"},
		{"<ann@example.com>", ok8, "Ann", "email"},
		{`"ann"@example.com`, ok8, "Ann", "email"},
		{"ann@example.com (work)", ok8, "Ann", "email"},
		{"ann@example.com, bob@example.com", ok8, "Ann", "email"},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com", ok8, "Ann", ""},      // 254 bytes
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com", ok8, "Ann", "email"}, // 255 bytes
		{"ann@example.com", "1234567", "Ann", "password"},
		{"ann@example.com", "", "Ann", "password"},
		{"ann@example.com", "ééééééé", "Ann", "password"}, // 7 characters, 14 bytes
		{"ann@example.com", "éééééééé", "Ann", ""},        // 8 characters
		{"ann@example.com", strings.Repeat("p", 128), "Ann", ""},
		{"ann@example.com", strings.Repeat("p", 129), "Ann", "password"},
		{"ann@example.com", ok8, "", "name"},
		{"ann@example.com", ok8, strings.Repeat("n", 100), ""},
		{"ann@example.com", ok8, strings.Repeat("n", 101), "name"},
		{"ann@example.com", ok8, "Ann\nB", "name"},
		{"ann@example.com", ok8, "Zoë Ådahl-Øster", ""},
		{"bad", "short", "", "email,password,name"},
	}
	for _, tt := range tests {
		err := user.ValidateRegistration(tt.email, tt.password, tt.name)
		if got := strings.Join(fields(err), ","); got != tt.bad {
			t.Errorf("ValidateRegistration(%q, %q, %q) = %v; want bad fields %q", tt.email, tt.password, tt.name, err, tt.bad)
		}
	}
}

func TestNormalize(t *testing.T) {
	if got := user.NormalizeEmail("  Ann.B@Example.COM \t"); got != "ann.b@example.com" {
		t.Errorf("NormalizeEmail() = %q; want ann.b@example.com", got)
	}
	if got := user.NormalizeName("  Ann B  "); got != "Ann B" {
		t.Errorf("NormalizeName() = %q; want %q", got, "Ann B")
	}
}

// countingHasher is a cheap argon2id hasher that counts verifications.
type countingHasher struct {
	*password.Hasher
	verifies atomic.Int32
}

func (h *countingHasher) Verify(ctx context.Context, pw, hash string) (bool, error) {
	h.verifies.Add(1)
	return h.Hasher.Verify(ctx, pw, hash)
}

type fixture struct {
	svc    *user.Service
	store  *usertest.Store
	events *usertest.Events
	hasher *countingHasher
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	f := fixture{
		store:  usertest.NewStore(),
		events: &usertest.Events{},
		hasher: &countingHasher{Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2)},
	}
	svc, err := user.NewService(context.Background(), f.store, f.hasher, f.events)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

func TestRegister(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u, err := f.svc.Register(ctx, " Ann@Example.com ", "secret-password", "  Ann  ")
	if err != nil {
		t.Fatalf("Register() = %v", err)
	}
	if u.ID == "" || u.Email != "ann@example.com" || u.Name != "Ann" || u.Role != user.RoleCustomer || u.CreatedAt.IsZero() || u.CreatedAt.Location().String() != "UTC" {
		t.Errorf("Register() = %+v; want a customer with normalised email and name, created now in UTC", u)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || strings.Contains(u.PasswordHash, "secret-password") {
		t.Errorf("PasswordHash = %q; want an argon2id hash", u.PasswordHash)
	}
	if got := f.events.Published(); len(got) != 1 || got[0].ID != u.ID {
		t.Errorf("published %+v; want one user.registered for %s", got, u.ID)
	}
	for _, email := range []string{"ann@example.com", "ANN@EXAMPLE.COM", " ann@Example.Com"} {
		if _, err := f.svc.Register(ctx, email, "other-password", "Other"); !errors.Is(err, user.ErrEmailTaken) {
			t.Errorf("Register(%q) = %v; want ErrEmailTaken", email, err)
		}
	}
	if _, err := f.svc.Register(ctx, "nope", "short", " "); len(fields(err)) != 3 {
		t.Errorf("Register(invalid) = %v; want three bad fields", err)
	}
	if f.store.Len() != 1 || len(f.events.Published()) != 1 {
		t.Errorf("store has %d users, %d events; want the rejected registrations to change nothing", f.store.Len(), len(f.events.Published()))
	}
}

func TestRegisterWhenPublishingFails(t *testing.T) {
	f := newFixture(t)
	f.events.Err = errors.New("broker down")
	u, err := f.svc.Register(context.Background(), "ann@example.com", "secret-password", "Ann")
	if !errors.Is(err, user.ErrNotPublished) || u.ID == "" {
		t.Errorf("Register() = %+v, %v; want the stored user and ErrNotPublished", u, err)
	}
	if _, err := f.store.Get(context.Background(), u.ID); err != nil {
		t.Errorf("the user was not stored: %v", err)
	}
}

func TestRegisterStoreFailure(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("sidecar down")
	f.store.Err = boom
	if _, err := f.svc.Register(context.Background(), "ann@example.com", "secret-password", "Ann"); !errors.Is(err, boom) {
		t.Errorf("Register() = %v; want the store's error", err)
	}
	if len(f.events.Published()) != 0 {
		t.Error("an event was published for a user that was not stored")
	}
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ann, err := f.svc.Register(ctx, "ann@example.com", "secret-password", "Ann")
	if err != nil {
		t.Fatal(err)
	}
	if u, err := f.svc.Authenticate(ctx, " ANN@example.com", "secret-password"); err != nil || u.ID != ann.ID {
		t.Errorf("Authenticate(right password) = %+v, %v; want Ann", u, err)
	}
	tests := []struct{ name, email, password string }{
		{"wrong password", "ann@example.com", "secret-passwore"},
		{"unknown email", "bob@example.com", "secret-password"},
		{"empty password", "ann@example.com", ""},
		{"oversized password", "ann@example.com", strings.Repeat("p", 129)},
		{"oversized email", strings.Repeat("a", 300) + "@example.com", "secret-password"},
	}
	for _, tt := range tests {
		before := f.hasher.verifies.Load()
		if _, err := f.svc.Authenticate(ctx, tt.email, tt.password); !errors.Is(err, user.ErrInvalidCredentials) {
			t.Errorf("Authenticate(%s) = %v; want ErrInvalidCredentials", tt.name, err)
		}
		// Unknown email and wrong password cost one hash each: same time.
		if tt.name == "wrong password" || tt.name == "unknown email" || tt.name == "oversized email" {
			if n := f.hasher.verifies.Load() - before; n != 1 {
				t.Errorf("Authenticate(%s) verified %d hashes; want 1", tt.name, n)
			}
		}
	}
}

func TestRename(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ann, _ := f.svc.Register(ctx, "ann@example.com", "secret-password", "Ann")
	u, err := f.svc.Rename(ctx, ann.ID, "  Ann B.  ")
	if err != nil || u.Name != "Ann B." || u.Email != ann.Email {
		t.Errorf("Rename() = %+v, %v; want the new trimmed name", u, err)
	}
	if _, err := f.svc.Rename(ctx, ann.ID, "   "); len(fields(err)) != 1 {
		t.Errorf("Rename(blank) = %v; want a bad name", err)
	}
	if _, err := f.svc.Rename(ctx, "nobody", "Bob"); !errors.Is(err, user.ErrNotFound) {
		t.Errorf("Rename(unknown) = %v; want ErrNotFound", err)
	}
}

func TestEnsureAdminIsIdempotent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	out, err := f.svc.EnsureAdmin(ctx, "Admin@Shop.local", "admin-password")
	if err != nil || out != user.AdminCreated {
		t.Fatalf("EnsureAdmin() = %v, %v; want created", out, err)
	}
	admin, err := f.store.GetByEmail(ctx, "admin@shop.local")
	if err != nil || admin.Role != user.RoleAdmin {
		t.Fatalf("stored admin = %+v, %v; want an admin", admin, err)
	}
	// A restart, with the password changed in the secret store meanwhile:
	// the existing admin is left alone.
	out, err = f.svc.EnsureAdmin(ctx, "admin@shop.local", "another-password")
	if err != nil || out != user.AdminExists {
		t.Errorf("EnsureAdmin(again) = %v, %v; want exists", out, err)
	}
	if again, _ := f.store.GetByEmail(ctx, "admin@shop.local"); again != admin {
		t.Errorf("admin changed to %+v; want it left alone", again)
	}
	if _, err := f.svc.Authenticate(ctx, "admin@shop.local", "admin-password"); err != nil {
		t.Errorf("Authenticate(admin) = %v", err)
	}
	if f.store.Len() != 1 {
		t.Errorf("%d users; want 1", f.store.Len())
	}
}

func TestEnsureAdminConcurrentReplicas(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	outcomes := make([]user.AdminOutcome, 5)
	errs := make([]error, 5)
	for i := range outcomes {
		wg.Go(func() {
			outcomes[i], errs[i] = f.svc.EnsureAdmin(context.Background(), "admin@shop.local", "admin-password")
		})
	}
	wg.Wait()
	created := 0
	for i := range outcomes {
		if errs[i] != nil {
			t.Errorf("EnsureAdmin() = %v", errs[i])
		}
		if outcomes[i] == user.AdminCreated {
			created++
		}
	}
	if created != 1 || f.store.Len() != 1 {
		t.Errorf("%d replicas created the admin, %d users stored; want 1 and 1", created, f.store.Len())
	}
}

func TestEnsureAdminDoesNotPromoteACustomer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Register(ctx, "admin@shop.local", "attacker-password", "Mallory"); err != nil {
		t.Fatal(err)
	}
	out, err := f.svc.EnsureAdmin(ctx, "admin@shop.local", "admin-password")
	if err != nil || out != user.AdminEmailTaken {
		t.Errorf("EnsureAdmin() = %v, %v; want email taken", out, err)
	}
	if u, _ := f.store.GetByEmail(ctx, "admin@shop.local"); u.Role != user.RoleCustomer {
		t.Errorf("the customer holding the admin email became %s", u.Role)
	}
}

func TestEnsureAdminRejectsBadSecrets(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct{ email, password string }{{"", "admin-password"}, {"not an email", "admin-password"}, {"admin@shop.local", "short"}} {
		if _, err := f.svc.EnsureAdmin(context.Background(), tt.email, tt.password); err == nil {
			t.Errorf("EnsureAdmin(%q, %q) = nil error; want the bad secret reported", tt.email, tt.password)
		}
	}
	if f.store.Len() != 0 {
		t.Error("a bad admin secret created an account")
	}
}

func TestGet(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ann, _ := f.svc.Register(ctx, "ann@example.com", "secret-password", "Ann")
	if u, err := f.svc.Get(ctx, ann.ID); err != nil || u.ID != ann.ID {
		t.Errorf("Get(%s) = %+v, %v; want Ann", ann.ID, u, err)
	}
	// Ids this service never issues are not looked up (a Dapr key may not
	// contain "||").
	f.store.Err = errors.New("store must not be called")
	for _, id := range []string{"", "a||b", "../x", "00000000-0000-4000-8000-00000000000"} {
		if _, err := f.svc.Get(ctx, id); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("Get(%q) = %v; want ErrNotFound", id, err)
		}
	}
}
