package user

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Store keeps accounts. Implementations report ErrNotFound, ErrEmailTaken
// and ErrConflict.
type Store interface {
	// Create stores a new user. It reports ErrEmailTaken when another
	// account holds u.Email, even when both are created at the same moment.
	Create(ctx context.Context, u User) error
	Get(ctx context.Context, id string) (User, error)
	// GetByEmail finds the account of a normalised email.
	GetByEmail(ctx context.Context, email string) (User, error)
	// Update reads the user, applies fn and saves the result, retrying
	// when another writer got there first. It returns the saved user.
	Update(ctx context.Context, id string, fn func(*User) error) (User, error)
}

// Hasher turns passwords into one-way hashes and checks them.
type Hasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, password, hash string) (bool, error)
}

// Events tells other services about accounts.
type Events interface {
	Registered(ctx context.Context, u User) error
}

// Service is what the user API does.
type Service struct {
	store  Store
	hasher Hasher
	events Events
	now    func() time.Time
	newID  func() string
	// dummyHash is verified against when a login names an unknown email,
	// so that the answer takes as long as a wrong password does.
	dummyHash string
}

// NewService returns the user service. It hashes a dummy password once, with
// the hasher's current parameters, for logins of unknown emails.
func NewService(ctx context.Context, store Store, hasher Hasher, events Events) (*Service, error) {
	dummy, err := hasher.Hash(ctx, "not a password of anyone: "+uuid.NewString())
	if err != nil {
		return nil, fmt.Errorf("dummy hash: %w", err)
	}
	return &Service{store: store, hasher: hasher, events: events, now: time.Now, newID: uuid.NewString, dummyHash: dummy}, nil
}

// Register creates a customer account. Invalid input is a
// validation.Errors; a taken email (in any letter case) is ErrEmailTaken.
// When the account was stored but its event could not be published, the
// user comes back with an error wrapping ErrNotPublished.
func (s *Service) Register(ctx context.Context, email, password, name string) (User, error) {
	return s.create(ctx, NormalizeEmail(email), password, NormalizeName(name), RoleCustomer)
}

func (s *Service) create(ctx context.Context, email, password, name, role string) (User, error) {
	if err := ValidateRegistration(email, password, name); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return User{}, fmt.Errorf("hash password: %w", err)
	}
	u := User{ID: s.newID(), Email: email, Name: name, Role: role, PasswordHash: hash, CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	if err := s.store.Create(ctx, u); err != nil {
		return User{}, err
	}
	if err := s.events.Registered(ctx, u); err != nil {
		return u, fmt.Errorf("%w: %w", ErrNotPublished, err)
	}
	return u, nil
}

// Authenticate returns the account of email when password is its password,
// and ErrInvalidCredentials otherwise: an unknown email and a wrong password
// are one answer, after about the same time.
func (s *Service) Authenticate(ctx context.Context, email, password string) (User, error) {
	if password == "" || len(password) > MaxPasswordBytes {
		return User{}, ErrInvalidCredentials
	}
	var u User
	err := ErrNotFound
	// An email no account can have is not looked up, but costs the same.
	if email = NormalizeEmail(email); email != "" && len(email) <= MaxEmailLen {
		u, err = s.store.GetByEmail(ctx, email)
	}
	if errors.Is(err, ErrNotFound) {
		if _, err := s.hasher.Verify(ctx, password, s.dummyHash); err != nil {
			return User{}, fmt.Errorf("dummy verify: %w", err)
		}
		return User{}, ErrInvalidCredentials
	}
	if err != nil {
		return User{}, err
	}
	ok, err := s.hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil {
		return User{}, fmt.Errorf("verify password of %s: %w", u.ID, err)
	}
	if !ok {
		return User{}, ErrInvalidCredentials
	}
	return u, nil
}

// Get returns the account with id. An id this service cannot have issued
// is ErrNotFound without asking the store.
func (s *Service) Get(ctx context.Context, id string) (User, error) {
	if uuid.Validate(id) != nil {
		return User{}, fmt.Errorf("user %q: %w", id, ErrNotFound)
	}
	return s.store.Get(ctx, id)
}

// Rename changes the display name of the account id.
func (s *Service) Rename(ctx context.Context, id, name string) (User, error) {
	name = NormalizeName(name)
	if err := ValidateName(name); err != nil {
		return User{}, err
	}
	return s.store.Update(ctx, id, func(u *User) error {
		u.Name = name
		return nil
	})
}

// AdminOutcome is what EnsureAdmin found or did.
type AdminOutcome int

// Outcomes of EnsureAdmin.
const (
	AdminCreated AdminOutcome = iota
	// AdminExists: an admin account holds the email (left as it is,
	// password included).
	AdminExists
	// AdminEmailTaken: a non-admin account holds the email. It is not
	// promoted: whoever registered it knows its password, not the operator.
	AdminEmailTaken
)

func (o AdminOutcome) String() string {
	switch o {
	case AdminCreated:
		return "created"
	case AdminExists:
		return "exists"
	case AdminEmailTaken:
		return "email taken by a non-admin account"
	}
	return fmt.Sprintf("AdminOutcome(%d)", int(o))
}

// AdminName is the display name of the bootstrapped admin account.
const AdminName = "Administrator"

// EnsureAdmin creates the first admin account when no account holds email.
// It is idempotent across restarts and safe when replicas start at once:
// the store's insert-if-absent on the email decides which one creates it.
// An error wrapping ErrNotPublished comes with AdminCreated when the account
// was stored but its event was not published.
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) (AdminOutcome, error) {
	email = NormalizeEmail(email)
	if err := ValidateRegistration(email, password, AdminName); err != nil {
		return 0, fmt.Errorf("admin account: %w", err)
	}
	existing, err := s.store.GetByEmail(ctx, email)
	switch {
	case err == nil:
		return classify(existing), nil
	case !errors.Is(err, ErrNotFound):
		return 0, fmt.Errorf("admin account: %w", err)
	}
	_, err = s.create(ctx, email, password, AdminName, RoleAdmin)
	switch {
	case err == nil, errors.Is(err, ErrNotPublished):
		return AdminCreated, err
	case errors.Is(err, ErrEmailTaken):
		// Another replica created it a moment ago.
		existing, err := s.store.GetByEmail(ctx, email)
		if errors.Is(err, ErrNotFound) {
			return AdminExists, nil // still being written by the other replica
		}
		if err != nil {
			return 0, fmt.Errorf("admin account: %w", err)
		}
		return classify(existing), nil
	default:
		return 0, fmt.Errorf("admin account: %w", err)
	}
}

func classify(u User) AdminOutcome {
	if u.Role == RoleAdmin {
		return AdminExists
	}
	return AdminEmailTaken
}
