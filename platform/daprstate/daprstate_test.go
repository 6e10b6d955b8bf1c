package daprstate

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestIsConflict(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"in-memory insert", status.Error(codes.Aborted, "failed saving state in state store: item already exists"), true},
		{"in-memory etag", status.Error(codes.Aborted, "possible etag mismatch. error from state store: etag mismatch"), true},
		{"redis insert", status.Error(codes.Internal, "failed saving state in state store statestore: failed to set key k: ERR"), true},
		{"redis bad etag", status.Error(codes.InvalidArgument, "failed saving state: invalid etag value: strconv.ParseInt"), true},
		{"postgres insert", status.Error(codes.Internal, "failed saving state in state store orders-state: no item was updated"), true},
		{"wrapped", fmt.Errorf("save: %w", status.Error(codes.Aborted, "x")), true},
		{"unavailable", status.Error(codes.Unavailable, "connection refused"), false},
		{"plain", errors.New("timeout"), false},
	}
	for _, tt := range tests {
		if got := IsConflict(tt.err); got != tt.want {
			t.Errorf("IsConflict(%s: %v) = %v; want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
