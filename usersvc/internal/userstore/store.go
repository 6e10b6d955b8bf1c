// Package userstore keeps accounts in a Dapr state store, through the
// sidecar (gRPC), with the shared optimistic-concurrency helper of
// platform/daprstate. Email uniqueness rests on the store's own
// concurrency control, never on a lock in this process, so it holds across
// replicas; and every write is one key with an ETag or first-write, never
// a multi-key transaction (state.redis does not apply one all or nothing,
// e2e/contract_test.go).
//
// Keys:
//
//	user:<id>       the account (JSON, password hash included), or a void
//	                record: the id of a registration that never completed
//	email:<email>   the claim: {"user_id", "claimed_at"} of the account that
//	                holds the normalised email (path-escaped in the key)
//
// Registering is two ordered first-writes:
//
//  1. Claim the email: insert email:<email> naming the new id. Of two
//     registrations of one email exactly one claim succeeds; the other is
//     ErrEmailTaken.
//  2. Insert user:<id>. It fails only when a takeover (below) voided the
//     id first: the registration then answers ErrEmailTaken and leaves
//     nothing behind.
//
// A crash before 1 leaves nothing. A crash between 1 and 2 leaves a claim
// whose account is missing: no account to log in to (GetByEmail answers
// ErrNotFound), and once the claim is older than StaleClaimAfter a later
// registration of the email takes it over:
//
//	a. Insert user:<old id> as a void record, so that the old registration,
//	   were it only slow, can never insert its account after all. If the
//	   insert finds a real account there, the email is taken. If it finds a
//	   void record, an earlier takeover got that far: carry on.
//	b. Write the claim naming the new id, guarded by the ETag of the claim
//	   read (a conflict: another registration was faster, ErrEmailTaken).
//	c. Insert user:<new id>, as 2.
//
// A crash after a leaves a void record and the old claim: the next
// takeover finds the void and carries on. A crash after b is a crash
// between 1 and 2. After c the account is complete. So no account is ever
// stored that its email's claim does not name, and every claim is either
// an account's or one that a registration takes over.
package userstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"shop/platform/daprstate"
	"shop/usersvc/internal/user"
)

// StaleClaimAfter is how long an email claim may wait for its account
// before another registration may take it over. A registration takes
// milliseconds; a takeover is safe whenever it happens (the void record
// stops the old registration), so the wait only keeps a registration in
// progress from being turned away by a duplicate of itself.
const StaleClaimAfter = 5 * time.Second

// updateAttempts bounds the optimistic-concurrency loop of Update.
const updateAttempts = 5

// Store implements user.Store on a Dapr state store.
type Store struct {
	state *daprstate.Store
	now   func() time.Time
}

// New returns a store on the Dapr state store component called name.
func New(client daprstate.Client, name string) *Store {
	return &Store{state: daprstate.New(client, name, daprstate.WithAttempts(updateAttempts)), now: time.Now}
}

func userKey(id string) string { return "user:" + id }

// emailKey escapes the email so that no address can produce a key Dapr
// refuses (keys may not contain "||") or one that reads as another key.
func emailKey(email string) string { return "email:" + url.PathEscape(email) }

// record is the stored form of an account, or of a voided id.
type record struct {
	ID           string    `json:"id"`
	Email        string    `json:"email,omitempty"`
	Name         string    `json:"name,omitempty"`
	Role         string    `json:"role,omitempty"`
	PasswordHash string    `json:"password_hash,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	// Void marks the id of a registration that a takeover of its email
	// claim stopped: no account.
	Void bool `json:"void,omitempty"`
}

func toRecord(u user.User) record {
	return record{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, PasswordHash: u.PasswordHash, CreatedAt: u.CreatedAt}
}

func (r record) user() user.User {
	return user.User{ID: r.ID, Email: r.Email, Name: r.Name, Role: r.Role, PasswordHash: r.PasswordHash, CreatedAt: r.CreatedAt}
}

// claim is the value of an email index entry.
type claim struct {
	UserID    string    `json:"user_id"`
	ClaimedAt time.Time `json:"claimed_at"`
}

// Create claims u.Email and stores u; see the package comment.
func (s *Store) Create(ctx context.Context, u user.User) error {
	key := emailKey(u.Email)
	mine := claim{UserID: u.ID, ClaimedAt: s.now().UTC()}
	// 1. Claim the email, or take over a stale claim (a, b).
	err := daprstate.Insert(ctx, s.state, key, mine)
	if errors.Is(err, daprstate.ErrConflict) {
		err = s.takeOver(ctx, key, mine)
	}
	if err != nil {
		return err
	}
	// 2. Store the account, unless a takeover voided its id.
	err = daprstate.Insert(ctx, s.state, userKey(u.ID), toRecord(u))
	if errors.Is(err, daprstate.ErrConflict) {
		return fmt.Errorf("email %s: claim taken over: %w", u.Email, user.ErrEmailTaken)
	}
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.ID, err)
	}
	return nil
}

// takeOver replaces the claim at key with mine when the account it names
// is missing and the claim is stale, and reports ErrEmailTaken otherwise.
func (s *Store) takeOver(ctx context.Context, key string, mine claim) error {
	var (
		taken   bool
		current claim
	)
	_, err := daprstate.Update(ctx, s.state, key, func(c *claim, found bool) error {
		taken = false
		if !found {
			// Gone since our insert (an operator's delete): claim it.
			*c = mine
			return nil
		}
		if c.UserID == "" {
			return fmt.Errorf("%s: malformed claim", key)
		}
		current = *c
		if s.now().Sub(c.ClaimedAt) < StaleClaimAfter {
			// A registration in progress, or one that died moments ago.
			taken = true
			return daprstate.ErrUnchanged
		}
		// a. Void the old id, unless its account exists.
		err := daprstate.Insert(ctx, s.state, userKey(c.UserID), record{ID: c.UserID, Void: true, CreatedAt: s.now().UTC()})
		if errors.Is(err, daprstate.ErrConflict) {
			old, _, err := s.read(ctx, c.UserID)
			if err != nil {
				return err
			}
			if !old.Void {
				taken = true
				return daprstate.ErrUnchanged
			}
		} else if err != nil {
			return fmt.Errorf("void user %s: %w", c.UserID, err)
		}
		// b. Claim it, guarded by the ETag of the claim read.
		*c = mine
		return nil
	})
	switch {
	case taken:
		return fmt.Errorf("%s: held by user %s: %w", key, current.UserID, user.ErrEmailTaken)
	case errors.Is(err, daprstate.ErrConflict):
		return fmt.Errorf("%s: %w", key, user.ErrEmailTaken)
	case err != nil:
		return fmt.Errorf("take over %s: %w", key, err)
	}
	return nil
}

// read returns the record of id; found is false when there is none.
func (s *Store) read(ctx context.Context, id string) (record, bool, error) {
	r, found, err := daprstate.Get[record](ctx, s.state, userKey(id))
	if err != nil {
		return r, false, fmt.Errorf("get user %s: %w", id, err)
	}
	return r, found, nil
}

// Get returns the account with id.
func (s *Store) Get(ctx context.Context, id string) (user.User, error) {
	r, found, err := s.read(ctx, id)
	if err != nil {
		return user.User{}, err
	}
	if !found || r.Void {
		return user.User{}, fmt.Errorf("user %s: %w", id, user.ErrNotFound)
	}
	return r.user(), nil
}

// GetByEmail returns the account that holds a normalised email. A claim
// whose account is not (yet) stored is no account.
func (s *Store) GetByEmail(ctx context.Context, email string) (user.User, error) {
	c, found, err := daprstate.Get[claim](ctx, s.state, emailKey(email))
	if err != nil {
		return user.User{}, fmt.Errorf("email %s: %w", email, err)
	}
	if !found || c.UserID == "" {
		return user.User{}, fmt.Errorf("email %s: %w", email, user.ErrNotFound)
	}
	u, err := s.Get(ctx, c.UserID)
	if err != nil {
		return user.User{}, err
	}
	if u.Email != email {
		return user.User{}, fmt.Errorf("index of %s names user %s of another email: %w", email, u.ID, user.ErrNotFound)
	}
	return u, nil
}

// Update reads the account, applies fn and saves it guarded by the ETag it
// read; on a conflict it reads again, up to updateAttempts times. fn must
// not change the id or the email (the claim would no longer match).
func (s *Store) Update(ctx context.Context, id string, fn func(*user.User) error) (user.User, error) {
	r, err := daprstate.Update(ctx, s.state, userKey(id), func(r *record, found bool) error {
		if !found || r.Void {
			return fmt.Errorf("user %s: %w", id, user.ErrNotFound)
		}
		u := r.user()
		if err := fn(&u); err != nil {
			return err
		}
		if u.ID != r.ID || u.Email != r.Email {
			return fmt.Errorf("update user %s: the id and the email cannot change", id)
		}
		*r = toRecord(u)
		return nil
	})
	if errors.Is(err, daprstate.ErrConflict) {
		return user.User{}, fmt.Errorf("update user %s: %w", id, errors.Join(user.ErrConflict, err))
	}
	if err != nil {
		return user.User{}, err
	}
	return r.user(), nil
}
