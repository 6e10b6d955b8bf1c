package main

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestLoadSettings(t *testing.T) {
	s, err := loadSettings(env(nil))
	if err != nil || s.Port != 8083 || s.stateStore != "orders-state" || s.inventoryAppID != "inventorysvc" || s.usersAppID != "usersvc" {
		t.Errorf("loadSettings(empty) = %+v, %v; want the documented defaults", s, err)
	}
	s, err = loadSettings(env(map[string]string{"INVENTORY_APP_ID": "inv-2", "USERS_APP_ID": "users-2"}))
	if err != nil || s.inventoryAppID != "inv-2" || s.usersAppID != "users-2" {
		t.Errorf("loadSettings() = %+v, %v; want peer app ids from the environment", s, err)
	}
	if _, err := loadSettings(env(map[string]string{"SHUTDOWN_DRAIN": "-3s"})); err == nil || !strings.Contains(err.Error(), "SHUTDOWN_DRAIN") {
		t.Errorf("loadSettings(bad) error = %v; want one naming SHUTDOWN_DRAIN", err)
	}
	// The test-only settings are off unless set, and checked when set.
	if s.crashAfterCommit != "" || s.paymentDelay != 0 || s.stallAfterClaim != 0 || s.paymentFailures != 0 {
		t.Errorf("loadSettings() = %+v; want every fault hook off by default", s)
	}
	s, err = loadSettings(env(map[string]string{"FAULT_CRASH_AFTER_COMMIT": "created", "PAYMENT_DELAY": "2s"}))
	if err != nil || s.crashAfterCommit != "order.created" || s.paymentDelay.Seconds() != 2 {
		t.Errorf("loadSettings(faults) = %+v, %v; want a crash after order.created and a 2s payment", s, err)
	}
	if _, err := loadSettings(env(map[string]string{"FAULT_CRASH_AFTER_COMMIT": "confirmed"})); err == nil || !strings.Contains(err.Error(), "FAULT_CRASH_AFTER_COMMIT") {
		t.Errorf("loadSettings(bad fault) error = %v; want one naming FAULT_CRASH_AFTER_COMMIT", err)
	}
	if s, err := loadSettings(env(map[string]string{"PAYMENT_FAILURES": "0.5"})); err != nil || s.paymentFailures != 0.5 {
		t.Errorf("loadSettings(PAYMENT_FAILURES=0.5) = %+v, %v", s, err)
	}
	for _, bad := range []string{"half", "-0.1", "1.5"} {
		if _, err := loadSettings(env(map[string]string{"PAYMENT_FAILURES": bad})); err == nil || !strings.Contains(err.Error(), "PAYMENT_FAILURES") {
			t.Errorf("loadSettings(PAYMENT_FAILURES=%s) error = %v; want one naming PAYMENT_FAILURES", bad, err)
		}
	}
}
