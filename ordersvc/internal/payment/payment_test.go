package payment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"shop/ordersvc/internal/contracttest"
	"shop/platform/daprstate"
	"shop/platform/daprstate/daprstatetest"
)

func TestContractFake(t *testing.T) { contract(t, contracttest.Fake()) }

// TestContractSidecar runs the contract against a real sidecar when the
// end-to-end suite names one (e2e/orderstore_contract_test.go).
func TestContractSidecar(t *testing.T) { contract(t, contracttest.Sidecar(t)) }

func orderID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "pay-test-" + hex.EncodeToString(b[:])
}

func contract(t *testing.T, db *daprstate.Store) {
	ctx := context.Background()
	p := NewSimulated(db)

	t.Run("concurrent charges of one order charge once", func(t *testing.T) {
		id := orderID()
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if ok, err := p.Charge(ctx, id, TokenApprove, 500); err != nil || !ok {
					t.Errorf("Charge = %v, %v; want approved", ok, err)
				}
			}()
		}
		wg.Wait()
		r, found, err := p.Get(ctx, id)
		if err != nil || !found || !r.Approved || r.AmountCents != 500 {
			t.Fatalf("record = %+v, %v, %v", r, found, err)
		}
		// A later charge answers the first outcome, even with another card.
		if ok, err := p.Charge(ctx, id, TokenDecline, 900); err != nil || !ok {
			t.Errorf("second Charge = %v, %v; want the first outcome, approved", ok, err)
		}
		if r2, _, _ := p.Get(ctx, id); r2 != r {
			t.Errorf("a second charge changed the record: %+v -> %+v", r, r2)
		}
	})

	t.Run("a refund happens once", func(t *testing.T) {
		id := orderID()
		if _, err := p.Charge(ctx, id, TokenApprove, 500); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := p.Refund(ctx, id); err != nil {
					t.Errorf("Refund = %v", err)
				}
			}()
		}
		wg.Wait()
		r, _, _ := p.Get(ctx, id)
		if st, _ := p.Status(ctx, id); st != StatusRefunded || r.RefundedAt.IsZero() {
			t.Errorf("after refunds: %s %+v; want refunded", st, r)
		}
		if err := p.Refund(ctx, id); err != nil {
			t.Fatal(err)
		}
		if r2, _, _ := p.Get(ctx, id); !r2.RefundedAt.Equal(r.RefundedAt) {
			t.Errorf("a second refund wrote again: %v -> %v", r.RefundedAt, r2.RefundedAt)
		}
	})

	t.Run("nothing to refund", func(t *testing.T) {
		none, declined := orderID(), orderID()
		if ok, err := p.Charge(ctx, declined, TokenDecline, 500); err != nil || ok {
			t.Fatalf("Charge(tok_decline) = %v, %v; want declined", ok, err)
		}
		for id, want := range map[string]string{none: StatusNone, declined: StatusDeclined} {
			if err := p.Refund(ctx, id); err != nil {
				t.Fatal(err)
			}
			if st, err := p.Status(ctx, id); err != nil || st != want {
				t.Errorf("Status after Refund = %s, %v; want %s", st, err, want)
			}
		}
	})
}

func TestDelay(t *testing.T) {
	p := NewSimulated(daprstate.New(daprstatetest.New(), "s"), WithDelay(50*time.Millisecond))
	start := time.Now()
	if _, err := p.Charge(context.Background(), "o1", TokenApprove, 1); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("a delayed charge took %v; want at least 50ms", took)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Charge(ctx, "o2", TokenApprove, 1); err == nil {
		t.Error("a delayed charge with its context cancelled succeeded")
	}
}

// A flaky provider (WithFailures) fails calls, before or after the charge;
// repeating the call until it answers charges the order once.
func TestFailuresChargeOnce(t *testing.T) {
	ctx := context.Background()
	charged := map[string]int{}
	var mu sync.Mutex
	p := NewSimulated(contracttest.Fake(), WithFailures(0.5), WithCharged(func(_ context.Context, id string, _ int64, _ bool) {
		mu.Lock()
		charged[id]++
		mu.Unlock()
	}))
	failed := 0
	for range 50 {
		id := orderID()
		for attempt := 0; ; attempt++ {
			ok, err := p.Charge(ctx, id, TokenApprove, 700)
			if err == nil {
				if !ok {
					t.Fatalf("order %s declined", id)
				}
				break
			}
			if !errors.Is(err, ErrUnavailable) || attempt > 40 {
				t.Fatalf("Charge: %v after %d attempts", err, attempt)
			}
			failed++
		}
		if charged[id] != 1 {
			t.Errorf("order %s charged %d times; want once", id, charged[id])
		}
	}
	// Half of the first calls fail: 25 of 50, give or take.
	if failed < 10 {
		t.Errorf("%d failures in 50 orders at rate 0.5", failed)
	}
}
