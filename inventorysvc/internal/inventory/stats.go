package inventory

import "errors"

// Stats counts what the service did since it started.
type Stats struct {
	// ConflictsRetried counts the store's guarded writes that lost an
	// optimistic-concurrency race (a changed ETag), when the store counts
	// them (ConflictCounter);
	// ConflictsExhausted counts operations that failed because their
	// updates kept losing.
	ConflictsRetried, ConflictsExhausted int64
	// Reserved, Rejected, Committed and Released count the reservations
	// that reached that state (redeliveries are not counted).
	Reserved, Rejected, Committed, Released int64
	// Published counts the outcomes published, redeliveries' included.
	Published int64
}

const (
	countReserved = iota
	countRejected
	countCommitted
	countReleased
)

// Stats returns the counters.
func (s *Service) Stats() Stats {
	st := Stats{
		ConflictsExhausted: s.conflictsExhausted.Load(),
		Reserved:           s.outcomes[countReserved].Load(),
		Rejected:           s.outcomes[countRejected].Load(),
		Committed:          s.outcomes[countCommitted].Load(),
		Released:           s.outcomes[countReleased].Load(),
		Published:          s.published.Load(),
	}
	if c, ok := s.store.(ConflictCounter); ok {
		st.ConflictsRetried = c.Conflicts()
	}
	return st
}

// done counts an operation that gave up on conflicts, and returns its error.
func (s *Service) done(err error) error {
	if errors.Is(err, ErrConflict) {
		s.conflictsExhausted.Add(1)
	}
	return err
}

// count counts the reservations that reached a state, once: only the
// delivery whose write made the move counts it.
func (s *Service) count(from, to Reservation) {
	switch {
	case to.Status == StatusReserved:
		s.outcomes[countReserved].Add(1)
	case to.Status == StatusRejected, to.Status == StatusReleased && !from.Final() && to.Final():
		s.outcomes[countRejected].Add(1)
	case to.Status == StatusCommitted:
		s.outcomes[countCommitted].Add(1)
	case to.Status == StatusReleased:
		s.outcomes[countReleased].Add(1)
	}
}
