package user

import (
	"time"

	"shop/platform/contract"
)

// RegisteredEvent is the user.registered event of u: never a password
// field.
func RegisteredEvent(u User) contract.UserRegistered {
	return contract.UserRegistered{
		Type:         contract.TypeUserRegistered,
		UserID:       u.ID,
		Email:        u.Email,
		Name:         u.Name,
		Role:         u.Role,
		RegisteredAt: u.CreatedAt.UTC().Format(time.RFC3339Nano),
	}
}
