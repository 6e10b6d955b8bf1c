package config

import (
	"strings"
	"testing"
	"time"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestSourceDefaultsAndValues(t *testing.T) {
	s := New(lookup(map[string]string{"NAME": "x", "EMPTY": "", "N": "7", "D": "2m"}))
	if got := s.String("NAME", "d"); got != "x" {
		t.Errorf("String(NAME) = %q; want x", got)
	}
	if got := s.String("EMPTY", "d"); got != "d" {
		t.Errorf("String(EMPTY) = %q; want default d", got)
	}
	if got := s.Int("N", 1, 0, 10); got != 7 {
		t.Errorf("Int(N) = %d; want 7", got)
	}
	if got := s.Int("MISSING", 3, 0, 10); got != 3 {
		t.Errorf("Int(MISSING) = %d; want 3", got)
	}
	if got := s.Duration("D", time.Second); got != 2*time.Minute {
		t.Errorf("Duration(D) = %v; want 2m", got)
	}
	if err := s.Err(); err != nil {
		t.Errorf("Err() = %v; want nil", err)
	}
}

func TestSourceBadValues(t *testing.T) {
	s := New(lookup(map[string]string{"PORT": "http", "BIG": "70000", "WAIT": "-1s"}))
	s.Int("PORT", 8080, 1, 65535)
	s.Int("BIG", 8080, 1, 65535)
	s.Duration("WAIT", time.Second)
	err := s.Err()
	if err == nil {
		t.Fatal("Err() = nil; want errors for PORT, BIG and WAIT")
	}
	for _, key := range []string{"PORT", "BIG", "WAIT"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("Err() = %q; want it to name %s", err, key)
		}
	}
}
