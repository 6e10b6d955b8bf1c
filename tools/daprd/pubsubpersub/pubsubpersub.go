// Package pubsubpersub runs each subscription of a pub/sub component on an
// instance of its own, and publishes through another one.
//
// The project's daprd build wraps pubsub.rabbitmq with it. components-contrib
// 1.18.3's pubsub.rabbitmq gives publishing and every subscription of a
// sidecar one AMQP channel. When the broker connection drops, every
// subscription registers again at the same moment, and
// subscribeForever calls channel.Consume without the channel's mutex while
// another subscription declares its queue under it (or a publish declares
// its exchange). amqp091-go hands an RPC reply to whichever call waits
// first, so both fail ("Exception (503) unexpected command received"); the
// broker keeps a consumer the client has dropped, whose deliveries stay
// unacknowledged for as long as the channel lives (prefetchCount of them),
// and the component does not reconnect on that error
// (dapr/components-contrib#4540). With one instance per subscription each
// AMQP channel has one user at a time: nothing to race.
//
// The cost is a broker connection per subscription, plus one for
// publishing (ordersvc: five, inventorysvc: three).
package pubsubpersub

import (
	"context"
	"errors"
	"sync"

	"github.com/dapr/components-contrib/pubsub"
	"github.com/dapr/kit/logger"
)

// Wrap returns a factory of components that create an instance of inner
// for publishing and one per subscription, all with the component's
// metadata.
func Wrap(inner func(logger.Logger) pubsub.PubSub) func(logger.Logger) pubsub.PubSub {
	return func(log logger.Logger) pubsub.PubSub {
		return &PubSub{log: log, inner: inner, publisher: inner(log), subs: map[pubsub.PubSub]struct{}{}}
	}
}

// PubSub is a pub/sub component made of instances of another.
type PubSub struct {
	log       logger.Logger
	inner     func(logger.Logger) pubsub.PubSub
	publisher pubsub.PubSub

	mu     sync.Mutex
	meta   pubsub.Metadata
	subs   map[pubsub.PubSub]struct{}
	closed bool
}

func (p *PubSub) Init(ctx context.Context, meta pubsub.Metadata) error {
	p.mu.Lock()
	p.meta = meta
	p.mu.Unlock()
	return p.publisher.Init(ctx, meta)
}

func (p *PubSub) Features() []pubsub.Feature { return p.publisher.Features() }

func (p *PubSub) Publish(ctx context.Context, req *pubsub.PublishRequest) error {
	return p.publisher.Publish(ctx, req)
}

// Subscribe starts an instance of its own for the subscription; it is
// closed when ctx ends or the component closes.
func (p *PubSub) Subscribe(ctx context.Context, req pubsub.SubscribeRequest, handler pubsub.Handler) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errors.New("component is closed")
	}
	meta := p.meta
	p.mu.Unlock()

	sub := p.inner(p.log)
	if err := sub.Init(ctx, meta); err != nil {
		return err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errors.Join(errors.New("component is closed"), sub.Close())
	}
	p.subs[sub] = struct{}{}
	p.mu.Unlock()

	if err := sub.Subscribe(ctx, req, handler); err != nil {
		p.closeSub(sub)
		return err
	}
	go func() {
		<-ctx.Done()
		p.closeSub(sub)
	}()
	return nil
}

// closeSub closes a subscription's instance once.
func (p *PubSub) closeSub(sub pubsub.PubSub) {
	p.mu.Lock()
	_, open := p.subs[sub]
	delete(p.subs, sub)
	p.mu.Unlock()
	if open {
		if err := sub.Close(); err != nil {
			p.log.Warnf("closing a subscription's instance: %v", err)
		}
	}
}

// Close closes the publisher and every subscription's instance.
func (p *PubSub) Close() error {
	p.mu.Lock()
	p.closed = true
	subs := make([]pubsub.PubSub, 0, len(p.subs))
	for s := range p.subs {
		subs = append(subs, s)
	}
	clear(p.subs)
	p.mu.Unlock()
	errs := []error{p.publisher.Close()}
	for _, s := range subs {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
