// Package config reads a service's settings from its environment, once, at
// start. Each service declares its own settings struct and fills it with a
// Source; a bad value is an error naming the variable.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Source reads settings from a lookup function such as os.LookupEnv. It keeps
// the first error so that a service can read all its settings and check once.
type Source struct {
	lookup func(string) (string, bool)
	errs   []error
}

// New returns a Source reading from lookup.
func New(lookup func(string) (string, bool)) *Source {
	return &Source{lookup: lookup}
}

// String returns the variable's value, or def when it is unset or empty.
func (s *Source) String(key, def string) string {
	if v, ok := s.lookup(key); ok && v != "" {
		return v
	}
	return def
}

// Int returns the variable as an integer within [min, max], or def when unset.
func (s *Source) Int(key string, def, min, max int) int {
	v, ok := s.lookup(key)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		s.errs = append(s.errs, fmt.Errorf("%s=%q: want an integer from %d to %d", key, v, min, max))
		return def
	}
	return n
}

// Duration returns the variable as a positive Go duration ("30s", "5m"), or
// def when unset.
func (s *Source) Duration(key string, def time.Duration) time.Duration {
	v, ok := s.lookup(key)
	if !ok || v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		s.errs = append(s.errs, fmt.Errorf("%s=%q: want a positive duration such as 30s", key, v))
		return def
	}
	return d
}

// Err reports every bad value read so far, or nil.
func (s *Source) Err() error {
	return errors.Join(s.errs...)
}

// Bool returns the variable as a boolean (true/false, 1/0), or def when unset.
func (s *Source) Bool(key string, def bool) bool {
	v, ok := s.lookup(key)
	if !ok || v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("%s=%q: want true or false", key, v))
		return def
	}
	return b
}
