package pubsubpersub

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dapr/components-contrib/pubsub"
	"github.com/dapr/kit/logger"
)

// instance is a fake inner component: it records what was done to it.
type instance struct {
	mu         sync.Mutex
	meta       pubsub.Metadata
	published  []string
	subscribed []string
	closed     int
	failSub    bool
	closedCh   chan struct{} // closed at the first Close
}

func (i *instance) Init(_ context.Context, m pubsub.Metadata) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.meta = m
	return nil
}
func (i *instance) Features() []pubsub.Feature { return []pubsub.Feature{pubsub.FeatureMessageTTL} }
func (i *instance) Publish(_ context.Context, req *pubsub.PublishRequest) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = append(i.published, req.Topic)
	return nil
}
func (i *instance) Subscribe(_ context.Context, req pubsub.SubscribeRequest, _ pubsub.Handler) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.failSub {
		return errors.New("refused")
	}
	i.subscribed = append(i.subscribed, req.Topic)
	return nil
}
func (i *instance) Close() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.closed++
	if i.closed == 1 {
		close(i.closedCh)
	}
	return nil
}
func (i *instance) closes() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.closed
}

type factory struct {
	mu        sync.Mutex
	instances []*instance
	failSub   bool
}

func (f *factory) new(logger.Logger) pubsub.PubSub {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := &instance{failSub: f.failSub && len(f.instances) > 0, closedCh: make(chan struct{})}
	f.instances = append(f.instances, i)
	return i
}

func newComponent(t *testing.T, f *factory) pubsub.PubSub {
	t.Helper()
	c := Wrap(f.new)(logger.NewLogger("test"))
	meta := pubsub.Metadata{}
	meta.Name = "pubsub"
	meta.Properties = map[string]string{"connectionString": "amqp://x"}
	if err := c.Init(context.Background(), meta); err != nil {
		t.Fatal(err)
	}
	return c
}

func noop(context.Context, *pubsub.NewMessage) error { return nil }

// Each subscription gets an instance of its own, with the component's
// metadata; publishing goes through one more, which subscribes to nothing.
func TestEachSubscriptionHasItsOwnInstance(t *testing.T) {
	f := &factory{}
	c := newComponent(t, f)
	ctx := t.Context()
	for _, topic := range []string{"orders", "inventory", "orders-deadletter"} {
		if err := c.Subscribe(ctx, pubsub.SubscribeRequest{Topic: topic}, noop); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Publish(ctx, &pubsub.PublishRequest{Topic: "orders"}); err != nil {
		t.Fatal(err)
	}
	if len(f.instances) != 4 {
		t.Fatalf("%d instances; want 4 (one publisher, three subscriptions)", len(f.instances))
	}
	pub := f.instances[0]
	if len(pub.subscribed) != 0 || len(pub.published) != 1 {
		t.Errorf("publisher: subscribed %v, published %v; want no subscription and one publish", pub.subscribed, pub.published)
	}
	for i, sub := range f.instances[1:] {
		if len(sub.subscribed) != 1 || len(sub.published) != 0 {
			t.Errorf("instance %d: subscribed %v, published %v; want one subscription and no publish", i+1, sub.subscribed, sub.published)
		}
		if sub.meta.Properties["connectionString"] != "amqp://x" || sub.meta.Name != "pubsub" {
			t.Errorf("instance %d has metadata %+v; want the component's", i+1, sub.meta)
		}
	}
	if got := c.Features(); len(got) != 1 || got[0] != pubsub.FeatureMessageTTL {
		t.Errorf("features %v; want the inner component's", got)
	}
}

// A subscription's instance closes when its context ends; the component's
// Close closes the rest once each.
func TestInstancesClose(t *testing.T) {
	f := &factory{}
	c := newComponent(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.Subscribe(ctx, pubsub.SubscribeRequest{Topic: "orders"}, noop); err != nil {
		t.Fatal(err)
	}
	if err := c.Subscribe(context.Background(), pubsub.SubscribeRequest{Topic: "inventory"}, noop); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-f.instances[1].closedCh:
	case <-time.After(5 * time.Second):
		t.Fatal("the ended subscription's instance was not closed")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for i, in := range f.instances {
		if in.closes() != 1 {
			t.Errorf("instance %d closed %d times; want once", i, in.closes())
		}
	}
	if err := c.Subscribe(context.Background(), pubsub.SubscribeRequest{Topic: "late"}, noop); err == nil {
		t.Error("Subscribe after Close succeeded")
	}
}

// A refused subscription closes its instance and reports the error.
func TestRefusedSubscriptionClosesItsInstance(t *testing.T) {
	f := &factory{failSub: true}
	c := newComponent(t, f)
	if err := c.Subscribe(context.Background(), pubsub.SubscribeRequest{Topic: "orders"}, noop); err == nil {
		t.Fatal("Subscribe succeeded; the instance refused it")
	}
	if got := f.instances[1].closes(); got != 1 {
		t.Errorf("the refused subscription's instance closed %d times; want once", got)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if got := f.instances[1].closes(); got != 1 {
		t.Errorf("after Close, the refused subscription's instance closed %d times; want once", got)
	}
}
