package validation

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrors(t *testing.T) {
	var v Errors
	v.Check("name", "")
	if err := v.Err(); err != nil {
		t.Fatalf("Err() with no bad field = %v; want nil", err)
	}
	v.Check("email", "is required")
	v.Add("name", "is too long")
	err := fmt.Errorf("register: %w", v.Err())
	var got Errors
	if !errors.As(err, &got) || len(got) != 2 || got[0] != (FieldError{"email", "is required"}) || got[1].Field != "name" {
		t.Fatalf("errors.As(%v) = %v; want email and name", err, got)
	}
	if want := "invalid: email is required; name is too long"; got.Error() != want {
		t.Errorf("Error() = %q; want %q", got.Error(), want)
	}
}
