// Package userstore keeps accounts in a Dapr state store, through the
// sidecar (gRPC). Email uniqueness rests on the store's own concurrency
// control, never on a lock in this process, so it holds across replicas.
//
// Keys:
//
//	user:<id>       the account (JSON, password hash included)
//	email:<email>   the index: {"user_id", "claimed_at"} of the account that
//	                holds the normalised email (path-escaped in the key)
//
// Creating an account is two steps, because a state store has no
// "insert these two keys only if the first is absent":
//
//  1. Claim the email: write the index entry with first-write concurrency
//     and no ETag, which every store treats as insert-if-absent. Of two
//     registrations of one email, exactly one claim succeeds; the other
//     gets a conflict (platform/daprstate.IsConflict) and ErrEmailTaken.
//  2. Commit: one transaction of two keys that rewrites the index entry
//     guarded by the ETag of our claim, and inserts user:<id>. The users
//     store carries no outbox metadata, so a multi-key transaction is safe
//     (the outbox's multi-key hang does not apply).
//
// A process that dies between the steps leaves a claim without an account,
// which would block the email forever. So a claim whose account is missing
// and that is older than StaleClaimAfter is stale: a later registration
// takes it over by writing the index with the claim's ETag (a conflict
// again means someone else was faster). The ETag guard in step 2 makes the
// takeover safe even against a registration that was merely slow: its
// commit fails instead of creating a second account with the same email.
//
// The user.registered event is published after the commit (see
// userevents), not through the outbox: publishing is best effort.
package userstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"shop/platform/daprstate"
	"shop/usersvc/internal/user"
)

// StaleClaimAfter is how long an email claim may wait for its account
// before another registration may take it over. A registration takes
// milliseconds; the margin also covers clocks of replicas that disagree.
const StaleClaimAfter = 30 * time.Second

// updateAttempts bounds the optimistic-concurrency loop of Update.
const updateAttempts = 5

// StateClient is the part of the Dapr client the store calls.
type StateClient interface {
	GetState(ctx context.Context, storeName, key string, meta map[string]string) (*dapr.StateItem, error)
	SaveBulkState(ctx context.Context, storeName string, items ...*dapr.SetStateItem) error
	ExecuteStateTransaction(ctx context.Context, storeName string, meta map[string]string, ops []*dapr.StateOperation) error
}

// Store implements user.Store on a Dapr state store.
type Store struct {
	client StateClient
	name   string
	now    func() time.Time
}

// New returns a store on the Dapr state store component called name.
func New(client StateClient, name string) *Store {
	return &Store{client: client, name: name, now: time.Now}
}

func userKey(id string) string { return "user:" + id }

// emailKey escapes the email so that no address can produce a key Dapr
// refuses (keys may not contain "||") or one that reads as another key.
func emailKey(email string) string { return "email:" + url.PathEscape(email) }

// record is the stored form of an account.
type record struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Role         string    `json:"role"`
	PasswordHash string    `json:"password_hash"`
	CreatedAt    time.Time `json:"created_at"`
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

var firstWrite = &dapr.StateOptions{Concurrency: dapr.StateConcurrencyFirstWrite, Consistency: dapr.StateConsistencyStrong}

// item is a write of key guarded by etag: an insert-if-absent when etag is "".
func item(key string, value []byte, etag string) *dapr.SetStateItem {
	it := &dapr.SetStateItem{Key: key, Value: value, Options: firstWrite}
	if etag != "" {
		it.Etag = &dapr.ETag{Value: etag}
	}
	return it
}

// Create claims u.Email and stores u; see the package comment.
func (s *Store) Create(ctx context.Context, u user.User) error {
	key := emailKey(u.Email)
	mine, err := json.Marshal(claim{UserID: u.ID, ClaimedAt: s.now().UTC()})
	if err != nil {
		return fmt.Errorf("encode claim: %w", err)
	}
	// 1. Claim the email: insert if absent, else take over a stale claim.
	err = s.client.SaveBulkState(ctx, s.name, item(key, mine, ""))
	if daprstate.IsConflict(err) {
		err = s.takeOver(ctx, key, mine)
	}
	if err != nil {
		return err
	}
	// Our claim's ETag guards the commit.
	got, etag, err := s.readClaim(ctx, key)
	if err != nil {
		return err
	}
	if got.UserID != u.ID {
		return fmt.Errorf("email %s: %w", u.Email, user.ErrEmailTaken)
	}
	// 2. Commit the claim and the account together.
	rec, err := json.Marshal(toRecord(u))
	if err != nil {
		return fmt.Errorf("encode user %s: %w", u.ID, err)
	}
	ops := []*dapr.StateOperation{
		{Type: dapr.StateOperationTypeUpsert, Item: item(key, mine, etag)},
		{Type: dapr.StateOperationTypeUpsert, Item: item(userKey(u.ID), rec, "")},
	}
	if err := s.client.ExecuteStateTransaction(ctx, s.name, nil, ops); err != nil {
		if daprstate.IsConflict(err) {
			return fmt.Errorf("email %s: claim taken over: %w", u.Email, user.ErrEmailTaken)
		}
		return fmt.Errorf("create user %s: %w", u.ID, err)
	}
	return nil
}

// takeOver replaces the claim at key with mine when it is stale, and
// reports ErrEmailTaken otherwise.
func (s *Store) takeOver(ctx context.Context, key string, mine []byte) error {
	current, etag, err := s.readClaim(ctx, key)
	if errors.Is(err, user.ErrNotFound) {
		// Gone between our insert and this read (a store with expiry, or
		// an operator's delete): insert again, once.
		etag = ""
	} else if err != nil {
		return err
	} else {
		_, err := s.Get(ctx, current.UserID)
		switch {
		case err == nil:
			return fmt.Errorf("%s: %w", key, user.ErrEmailTaken)
		case !errors.Is(err, user.ErrNotFound):
			return err
		case s.now().Sub(current.ClaimedAt) < StaleClaimAfter:
			// A registration in flight, or one that died moments ago.
			return fmt.Errorf("%s: claimed by a registration in progress: %w", key, user.ErrEmailTaken)
		}
	}
	err = s.client.SaveBulkState(ctx, s.name, item(key, mine, etag))
	switch {
	case daprstate.IsConflict(err):
		return fmt.Errorf("%s: %w", key, user.ErrEmailTaken)
	case err != nil:
		return fmt.Errorf("take over %s: %w", key, err)
	}
	return nil
}

// readClaim returns the email claim at key and its ETag, or ErrNotFound.
func (s *Store) readClaim(ctx context.Context, key string) (claim, string, error) {
	var c claim
	it, err := s.client.GetState(ctx, s.name, key, nil)
	if err != nil {
		return c, "", fmt.Errorf("get %s: %w", key, err)
	}
	if len(it.Value) == 0 {
		return c, "", fmt.Errorf("%s: %w", key, user.ErrNotFound)
	}
	if err := json.Unmarshal(it.Value, &c); err != nil || c.UserID == "" {
		return c, "", fmt.Errorf("decode %s: malformed claim %q", key, it.Value)
	}
	return c, it.Etag, nil
}

// Get returns the account with id.
func (s *Store) Get(ctx context.Context, id string) (user.User, error) {
	u, _, err := s.get(ctx, id)
	return u, err
}

func (s *Store) get(ctx context.Context, id string) (user.User, string, error) {
	it, err := s.client.GetState(ctx, s.name, userKey(id), nil)
	if err != nil {
		return user.User{}, "", fmt.Errorf("get user %s: %w", id, err)
	}
	if len(it.Value) == 0 {
		return user.User{}, "", fmt.Errorf("user %s: %w", id, user.ErrNotFound)
	}
	var r record
	if err := json.Unmarshal(it.Value, &r); err != nil {
		return user.User{}, "", fmt.Errorf("decode user %s: %w", id, err)
	}
	return r.user(), it.Etag, nil
}

// GetByEmail returns the account that holds a normalised email. A claim
// whose account is not (yet) stored is no account.
func (s *Store) GetByEmail(ctx context.Context, email string) (user.User, error) {
	c, _, err := s.readClaim(ctx, emailKey(email))
	if err != nil {
		return user.User{}, err
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
// not change the id or the email (the index would no longer match).
func (s *Store) Update(ctx context.Context, id string, fn func(*user.User) error) (user.User, error) {
	for range updateAttempts {
		u, etag, err := s.get(ctx, id)
		if err != nil {
			return user.User{}, err
		}
		before := u
		if err := fn(&u); err != nil {
			return user.User{}, err
		}
		if u.ID != before.ID || u.Email != before.Email {
			return user.User{}, fmt.Errorf("update user %s: the id and the email cannot change", id)
		}
		rec, err := json.Marshal(toRecord(u))
		if err != nil {
			return user.User{}, fmt.Errorf("encode user %s: %w", id, err)
		}
		err = s.client.SaveBulkState(ctx, s.name, item(userKey(id), rec, etag))
		if err == nil {
			return u, nil
		}
		if !daprstate.IsConflict(err) {
			return user.User{}, fmt.Errorf("save user %s: %w", id, err)
		}
	}
	return user.User{}, fmt.Errorf("update user %s: %w", id, user.ErrConflict)
}
