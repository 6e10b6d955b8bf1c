package orderstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"shop/ordersvc/internal/order"
	"shop/platform/daprstate"
)

// Index adds the order to its user's list, to its shard of all orders and
// to its shard of the sweep's index (as Watch does). It returns once they
// are written.
//
// The writes of orders placed at once are grouped: one index write runs at
// a time in a Store, and it writes every order that arrived while the one
// before it ran, in one bulk read and one bulk save of the keys they touch
// (each key's write guarded by its own ETag). The all-orders shards and
// the sweep's shards are shared by every order, so writing each order on
// its own would make concurrent orders race for the same keys and retry;
// grouped, a replica never races itself, and the busier it is the more
// orders one write carries.
//
// The keys are single-key writes, not a transaction; the order is written
// only after Index returned, so a crash in between leaves only ids whose
// order does not exist, which listings and the sweep skip.
func (s *Store) Index(ctx context.Context, o order.Order, now time.Time) error {
	// When ctx ends first, the write goes on; an id it lists whose order
	// never comes is skipped, as after a crash.
	return s.indexing.Do(ctx, indexRequest{order: o, entry: workEntry{Mark: newMark(), Since: now}})
}

type indexRequest struct {
	order order.Order
	entry workEntry
}

// writeTimeout bounds one grouped write.
const writeTimeout = 30 * time.Second

// maxGroup bounds the orders of one grouped write: its bulk save of up to
// that many pages (a few KB each) stays well within the 4 MB a sidecar's
// gRPC API takes in one message.
const maxGroup = 128

// indexBatch writes the index entries of a group of orders: one bulk read
// and one bulk save of every page and shard they touch, and, for a page
// that fills, a move of its list's head and one more round for the ids
// that did not fit.
func (s *Store) indexBatch(ctx context.Context, batch []indexRequest) error {
	ids := map[string][]string{} // list -> ids to add to its newest page
	var lists []string
	work := map[int]map[string]workEntry{}
	for _, r := range batch {
		for _, list := range []string{userList(r.order.UserID), allList(shardOf(r.order.ID))} {
			if _, ok := ids[list]; !ok {
				lists = append(lists, list)
			}
			ids[list] = append(ids[list], r.order.ID)
		}
		shard := shardOf(r.order.ID)
		if work[shard] == nil {
			work[shard] = map[string]workEntry{}
		}
		work[shard][r.order.ID] = r.entry
	}
	for range maxRollovers {
		pages, err := s.heads(ctx, lists)
		if err != nil {
			return fmt.Errorf("index %d orders: %w", len(batch), err)
		}
		var changes []daprstate.Change
		for shard, entries := range work {
			changes = append(changes, watch(shard, entries))
		}
		left := make([][]string, len(lists))
		for i, list := range lists {
			changes = append(changes, daprstate.Edit(pageKey(list, pages[i]), func(p *page, _ bool) error {
				left[i] = nil
				changed := false
				for _, id := range ids[list] {
					switch {
					case slices.Contains(p.IDs, id):
					case len(p.IDs) >= PageSize:
						left[i] = append(left[i], id)
					default:
						p.IDs = append(p.IDs, id)
						changed = true
					}
				}
				if !changed {
					return daprstate.ErrUnchanged
				}
				return nil
			}))
		}
		if err := daprstate.UpdateAll(ctx, s.db, changes...); err != nil {
			return fmt.Errorf("index %d orders: %w", len(batch), translate(err))
		}
		work = nil // written
		var full []string
		for i, list := range lists {
			if len(left[i]) == 0 {
				continue
			}
			if err := s.rollOver(ctx, list, pages[i]); err != nil {
				return err
			}
			ids[list] = left[i]
			full = append(full, list)
		}
		if len(full) == 0 {
			return nil
		}
		lists = full
	}
	return fmt.Errorf("index %d orders: every page full after %d tries: %w", len(batch), maxRollovers, order.ErrConflict)
}
