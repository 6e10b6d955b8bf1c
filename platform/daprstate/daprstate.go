// Package daprstate translates the answers of Dapr state stores into the few
// facts services act on. Stores disagree on how they report a lost
// optimistic-concurrency race; this is the one place that knows each form.
package daprstate

import (
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// IsConflict reports whether err is a state store's answer to a write whose
// ETag no longer matches, or to a first write (no ETag, first-write
// concurrency) of a key that already exists.
//
// The forms seen on daprd 1.14.4 and 1.18: in-memory answers Aborted ("item
// already exists", "possible etag mismatch"); Redis answers Internal
// ("failed to set key") for an insert that lost, and InvalidArgument for a
// malformed ETag; PostgreSQL answers Internal "no item was updated" for an
// insert that lost and Aborted for a stale ETag; transactions wrap the same
// messages. e2e/contract_test.go checks, through each profile's sidecar,
// that IsConflict recognises a lost insert, a stale ETag and a transaction
// with a stale ETag (not which code each store uses).
func IsConflict(err error) bool {
	if err == nil {
		return false
	}
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.Aborted, codes.FailedPrecondition:
		return true
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"etag mismatch", "etag", "already exists", "failed to set key", "duplicate key", "no item was updated"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
