// Package usertest provides in-memory fakes of the user domain's ports for
// tests that need no Dapr sidecar.
package usertest

import (
	"context"
	"fmt"
	"sync"

	"shop/usersvc/internal/user"
)

// Store is an in-memory user.Store.
type Store struct {
	mu      sync.Mutex
	byID    map[string]user.User
	byEmail map[string]string
	// Err, when set, is what every call answers.
	Err error
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{byID: map[string]user.User{}, byEmail: map[string]string{}}
}

// Create implements user.Store.
func (s *Store) Create(_ context.Context, u user.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if _, ok := s.byEmail[u.Email]; ok {
		return fmt.Errorf("%s: %w", u.Email, user.ErrEmailTaken)
	}
	s.byID[u.ID], s.byEmail[u.Email] = u, u.ID
	return nil
}

// Get implements user.Store.
func (s *Store) Get(_ context.Context, id string) (user.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return user.User{}, s.Err
	}
	u, ok := s.byID[id]
	if !ok {
		return user.User{}, fmt.Errorf("%s: %w", id, user.ErrNotFound)
	}
	return u, nil
}

// GetByEmail implements user.Store.
func (s *Store) GetByEmail(ctx context.Context, email string) (user.User, error) {
	s.mu.Lock()
	id, ok := s.byEmail[email]
	err := s.Err
	s.mu.Unlock()
	if err != nil {
		return user.User{}, err
	}
	if !ok {
		return user.User{}, fmt.Errorf("%s: %w", email, user.ErrNotFound)
	}
	return s.Get(ctx, id)
}

// Update implements user.Store.
func (s *Store) Update(_ context.Context, id string, fn func(*user.User) error) (user.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return user.User{}, s.Err
	}
	u, ok := s.byID[id]
	if !ok {
		return user.User{}, fmt.Errorf("%s: %w", id, user.ErrNotFound)
	}
	if err := fn(&u); err != nil {
		return user.User{}, err
	}
	s.byID[id] = u
	return u, nil
}

// Len is the number of stored users.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}

// Events records the events the service publishes.
type Events struct {
	mu        sync.Mutex
	published []user.User
	// Err, when set, is what publishing answers.
	Err error
}

// Registered implements user.Events.
func (e *Events) Registered(_ context.Context, u user.User) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.Err != nil {
		return e.Err
	}
	e.published = append(e.published, u)
	return nil
}

// Published returns the users whose user.registered was published.
func (e *Events) Published() []user.User {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]user.User(nil), e.published...)
}
