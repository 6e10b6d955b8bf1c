// Package orderstore keeps orders in a Dapr state store, through the
// sidecar and platform/daprstate. Every write is one key: an insert that
// fails when the key exists, or a read-modify-write guarded by the ETag
// read. No write is a multi-key transaction, which not every store applies
// all or nothing.
//
// Keys:
//
//	order:<id>                         the order, with its outbox
//	idempotency:<user id>:<key>        the order an Idempotency-Key names
//	user-orders:<user id>:head         the newest page of a user's orders
//	user-orders:<user id>:<n>          page n: at most PageSize order ids
//	all-orders:<shard>:head, :<n>      the same, for all orders, in shards
//	saga-work:<shard>                  the sweep's index: orders with saga
//	                                   work or an unpublished event
package orderstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"shop/ordersvc/internal/order"
	"shop/platform/batch"
	"shop/platform/daprstate"
)

// Shards of the indexes every order is in: one hot key would make every
// order creation conflict with every other.
const shards = 16

// PageSize is how many order ids one index page holds: a write of an index
// touches one page, and a read of a listing one or two.
const PageSize = 100

func orderKey(id string) string         { return "order:" + id }
func idemKey(userID, key string) string { return "idempotency:" + userID + ":" + key }
func userList(userID string) string     { return "user-orders:" + userID }
func allList(shard int) string          { return fmt.Sprintf("all-orders:%02d", shard) }
func workKey(shard int) string          { return fmt.Sprintf("saga-work:%02d", shard) }
func headKey(list string) string        { return list + ":head" }
func pageKey(list string, n int) string { return list + ":" + strconv.Itoa(n) }
func shardOf(id string) int             { h := fnv.New32a(); h.Write([]byte(id)); return int(h.Sum32() % shards) }

// Store implements order.Store on a Dapr state store.
type Store struct {
	db *daprstate.Store

	mu        sync.Mutex
	headCache map[string]int // list -> its newest page, as last read or moved; see heads
	indexing  *batch.Queue[indexRequest]
	clearing  *batch.Queue[clearRequest]
}

// New returns a store on db.
func New(db *daprstate.Store) *Store {
	s := &Store{db: db, headCache: map[string]int{}}
	s.indexing = batch.New(writeTimeout, maxGroup, s.indexBatch)
	s.clearing = batch.New(writeTimeout, maxGroup, s.clearBatch)
	return s
}

// translate maps a lost optimistic-concurrency race to order.ErrConflict:
// the one place the store's conflicts become the domain's.
func translate(err error) error {
	if errors.Is(err, daprstate.ErrConflict) {
		return errors.Join(order.ErrConflict, err)
	}
	return err
}

// Get returns one order.
func (s *Store) Get(ctx context.Context, id string) (order.Order, error) {
	o, found, err := daprstate.Get[order.Order](ctx, s.db, orderKey(id))
	if err == nil && !found {
		err = fmt.Errorf("order %s: %w", id, order.ErrNotFound)
	}
	return o, err
}

// Orders reads orders in one call.
func (s *Store) Orders(ctx context.Context, ids []string) (map[string]order.Order, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = orderKey(id)
	}
	byKey, err := daprstate.GetBulk[order.Order](ctx, s.db, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]order.Order, len(byKey))
	for _, o := range byKey {
		out[o.ID] = o
	}
	return out, nil
}

// Insert writes a new order, only if its key is absent.
func (s *Store) Insert(ctx context.Context, o order.Order) error {
	if err := daprstate.Insert(ctx, s.db, orderKey(o.ID), o); err != nil {
		return fmt.Errorf("insert order %s: %w", o.ID, translate(err))
	}
	return nil
}

var errNotFound = errors.New("absent")

// Update is read, apply, write with the ETag, retried on conflict.
func (s *Store) Update(ctx context.Context, id string, fn func(*order.Order) error) (order.Order, error) {
	o, err := daprstate.Update(ctx, s.db, orderKey(id), func(o *order.Order, found bool) error {
		if !found {
			return errNotFound
		}
		err := fn(o)
		if errors.Is(err, order.ErrUnchanged) {
			return daprstate.ErrUnchanged
		}
		return err
	})
	switch {
	case errors.Is(err, errNotFound):
		return o, fmt.Errorf("order %s: %w", id, order.ErrNotFound)
	case err != nil:
		return o, fmt.Errorf("update order %s: %w", id, translate(err))
	}
	return o, nil
}

// ClearEvents removes the events from the order's outbox. The clears of
// orders published at once share one write (one bulk read and one bulk
// save of their records, each guarded by its own ETag), as Index does.
func (s *Store) ClearEvents(ctx context.Context, id string, eventIDs []string) error {
	return s.clearing.Do(ctx, clearRequest{orderID: id, eventIDs: eventIDs})
}

type clearRequest struct {
	orderID  string
	eventIDs []string
}

func (s *Store) clearBatch(ctx context.Context, batch []clearRequest) error {
	ids := map[string][]string{}
	var orders []string
	for _, r := range batch {
		if _, ok := ids[r.orderID]; !ok {
			orders = append(orders, r.orderID)
		}
		ids[r.orderID] = append(ids[r.orderID], r.eventIDs...)
	}
	changes := make([]daprstate.Change, len(orders))
	for i, id := range orders {
		changes[i] = daprstate.Edit(orderKey(id), func(o *order.Order, found bool) error {
			if !found || !o.Clear(ids[id]) {
				return daprstate.ErrUnchanged
			}
			return nil
		})
	}
	if err := daprstate.UpdateAll(ctx, s.db, changes...); err != nil {
		return fmt.Errorf("clear the outbox of %d orders: %w", len(orders), translate(err))
	}
	return nil
}

type claim struct {
	OrderID     string `json:"order_id"`
	RequestHash string `json:"request_hash"`
}

// ClaimKey inserts the idempotency record; the first writer wins.
func (s *Store) ClaimKey(ctx context.Context, userID, key, orderID, requestHash string) (string, string, error) {
	err := daprstate.Insert(ctx, s.db, idemKey(userID, key), claim{OrderID: orderID, RequestHash: requestHash})
	if err == nil {
		return orderID, requestHash, nil
	}
	if !errors.Is(err, daprstate.ErrConflict) {
		return "", "", fmt.Errorf("claim idempotency key: %w", err)
	}
	c, found, err := daprstate.Get[claim](ctx, s.db, idemKey(userID, key))
	if err != nil {
		return "", "", fmt.Errorf("claim idempotency key: %w", err)
	}
	if !found {
		return "", "", fmt.Errorf("claim idempotency key: conflict but no record: %w", order.ErrConflict)
	}
	return c.OrderID, c.RequestHash, nil
}

type head struct {
	Page int `json:"page"`
}

type page struct {
	IDs []string `json:"ids"`
}

// maxRollovers bounds how many full pages one index write may step over.
const maxRollovers = 8

// heads are the newest page numbers of lists: from the cache where it has
// them, else read (one call for all that it lacks).
//
// A cached number can only be behind: a head moves on only past a full
// page, and a page never shrinks. So a stale number names a full page,
// Index finds it full, and rollOver moves the head on (or finds it moved)
// and drops the number from the cache.
func (s *Store) heads(ctx context.Context, lists []string) ([]int, error) {
	out := make([]int, len(lists))
	var missing []string
	s.mu.Lock()
	for i, list := range lists {
		n, ok := s.headCache[list]
		if !ok {
			missing = append(missing, headKey(list))
		}
		out[i] = n
	}
	s.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	read, err := daprstate.GetBulk[head](ctx, s.db, missing)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.headCache) >= maxCachedHeads {
		clear(s.headCache)
	}
	for i, list := range lists {
		if slices.Contains(missing, headKey(list)) {
			out[i] = read[headKey(list)].Page // 0 when the list has no head yet
			s.headCache[list] = out[i]
		}
	}
	return out, nil
}

// maxCachedHeads bounds the head cache (one entry per user who ordered
// since the service started, plus the shards): when full it starts over.
const maxCachedHeads = 100_000

// rollOver moves the head of list on from page n, which is full (guarded:
// only if the head is still at n), and drops the list from the head cache.
// A crash after moving the head leaves an empty newest page, which a
// listing passes over.
func (s *Store) rollOver(ctx context.Context, list string, n int) error {
	s.mu.Lock()
	delete(s.headCache, list)
	s.mu.Unlock()
	_, err := daprstate.Update(ctx, s.db, headKey(list), func(next *head, _ bool) error {
		if next.Page != n {
			return daprstate.ErrUnchanged
		}
		next.Page++
		return nil
	})
	if err != nil {
		return fmt.Errorf("index %s: %w", list, translate(err))
	}
	return nil
}

// position is where a listing of one paged list stands: the ids of page
// Page below After (all of them when After is ""), then the older pages.
// Page -1 is the end.
type position struct {
	Page  int
	After string
}

func (p position) String() string {
	if p.Page < 0 {
		return "-"
	}
	return strconv.Itoa(p.Page) + "." + p.After
}

func parsePosition(s string) (position, bool) {
	if s == "-" {
		return position{Page: -1}, true
	}
	n, after, ok := strings.Cut(s, ".")
	page, err := strconv.Atoi(n)
	if !ok || err != nil || page < 0 || strconv.Itoa(page) != n || (after != "" && !order.ValidID(after)) {
		return position{}, false
	}
	return position{Page: page, After: after}, true
}

// A cursor is one position per list read: one for a user's orders, one per
// shard for all orders, joined by ",".
func parseCursor(c string) ([]position, bool) {
	parts := strings.Split(c, ",")
	if len(parts) != 1 && len(parts) != shards {
		return nil, false
	}
	out := make([]position, len(parts))
	for i, p := range parts {
		var ok bool
		if out[i], ok = parsePosition(p); !ok {
			return nil, false
		}
	}
	return out, true
}

// ValidCursor reports whether c has the form of a cursor List returns.
func (s *Store) ValidCursor(c string) bool {
	_, ok := parseCursor(c)
	return ok
}

// reader walks one paged list newest first, page by page, each page's ids
// sorted newest first.
type reader struct {
	s       *Store
	list    string
	pos     position // where the next id is taken from
	pending []string // ids of pos.Page below pos.After, newest first
	loaded  bool
	reads   int
}

// maxPageReads bounds the pages one listing reads per list, so that a
// stretch of empty pages costs a bounded amount too; the cursor goes on
// from there.
const maxPageReads = 4

// peek returns the next id, loading pages as needed; "" at the end, or when
// the read budget is spent (then the position says where to go on).
func (r *reader) peek(ctx context.Context) (string, error) {
	for r.pos.Page >= 0 {
		if r.loaded && len(r.pending) > 0 {
			return r.pending[0], nil
		}
		if r.loaded {
			r.pos, r.loaded = position{Page: r.pos.Page - 1}, false
			continue
		}
		if r.reads >= maxPageReads {
			return "", nil
		}
		r.reads++
		p, _, err := daprstate.Get[page](ctx, r.s.db, pageKey(r.list, r.pos.Page))
		if err != nil {
			return "", err
		}
		ids := slices.Clone(p.IDs)
		slices.Sort(ids)
		slices.Reverse(ids)
		if r.pos.After != "" {
			ids = slices.DeleteFunc(ids, func(id string) bool { return id >= r.pos.After })
		}
		r.pending, r.loaded = ids, true
	}
	return "", nil
}

// take consumes the id peek returned.
func (r *reader) take() {
	r.pos.After = r.pending[0]
	r.pending = r.pending[1:]
}

// done reports whether the list has nothing more: not just out of budget.
func (r *reader) done() bool { return r.pos.Page < 0 }

// List returns a page of orders: a user's (one paged list) or all orders
// (a merge of the shards' lists, each read page by page). Its cost depends
// on limit, never on how many orders exist.
func (s *Store) List(ctx context.Context, userID, cursor string, limit int) ([]order.Order, string, error) {
	lists := []string{userList(userID)}
	if userID == "" {
		lists = lists[:0]
		for i := range shards {
			lists = append(lists, allList(i))
		}
	}
	var positions []position
	if cursor == "" {
		heads, err := daprstate.GetBulk[head](ctx, s.db, mapSlice(lists, headKey))
		if err != nil {
			return nil, "", err
		}
		for _, l := range lists {
			positions = append(positions, position{Page: heads[headKey(l)].Page})
		}
	} else {
		var ok bool
		if positions, ok = parseCursor(cursor); !ok || len(positions) != len(lists) {
			return nil, "", order.ErrBadCursor
		}
	}
	readers := make([]*reader, len(lists))
	for i, l := range lists {
		readers[i] = &reader{s: s, list: l, pos: positions[i]}
	}
	// Merge: take the newest next id among the lists, limit times.
	var ids []string
	seen := map[string]bool{}
	for len(ids) < limit {
		best, bestID := -1, ""
		for i, r := range readers {
			id, err := r.peek(ctx)
			if err != nil {
				return nil, "", err
			}
			if id != "" && id > bestID {
				best, bestID = i, id
			}
		}
		if best < 0 {
			break
		}
		readers[best].take()
		if !seen[bestID] {
			seen[bestID] = true
			ids = append(ids, bestID)
		}
	}
	byID, err := s.Orders(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	out := []order.Order{}
	for _, id := range ids {
		if o, ok := byID[id]; ok { // an id indexed before its order was written, or never
			out = append(out, o)
		}
	}
	more := false
	next := make([]string, len(readers))
	for i, r := range readers {
		if id, err := r.peek(ctx); err != nil {
			return nil, "", err
		} else if id != "" || !r.done() {
			more = true
		}
		next[i] = r.pos.String()
	}
	if !more {
		return out, "", nil
	}
	return out, strings.Join(next, ","), nil
}

func mapSlice(in []string, f func(string) string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}

// work is one shard of the sweep's index: order id -> entry.
type work struct {
	Orders map[string]workEntry `json:"orders"`
}

type workEntry struct {
	Mark  string    `json:"mark"`
	Since time.Time `json:"since"`
}

func newMark() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Watch adds the order to its shard of the sweep's index with a new mark,
// so that a sweep that read the old mark does not remove it.
func (s *Store) Watch(ctx context.Context, id string, now time.Time) error {
	if err := daprstate.UpdateAll(ctx, s.db, watch(shardOf(id), map[string]workEntry{id: {Mark: newMark(), Since: now}})); err != nil {
		return fmt.Errorf("watch order %s: %w", id, translate(err))
	}
	return nil
}

// watch is the change that lists the orders of entries (id -> entry) in
// shard of the sweep's index; applied again, it writes nothing.
func watch(shard int, entries map[string]workEntry) daprstate.Change {
	return daprstate.Edit(workKey(shard), func(w *work, _ bool) error {
		changed := false
		for id, e := range entries {
			if cur, ok := w.Orders[id]; ok && cur.Mark == e.Mark {
				continue
			}
			if w.Orders == nil {
				w.Orders = map[string]workEntry{}
			}
			w.Orders[id] = e
			changed = true
		}
		if !changed {
			return daprstate.ErrUnchanged
		}
		return nil
	})
}

// Watched reads every shard of the sweep's index in one call.
func (s *Store) Watched(ctx context.Context) ([]order.Watch, error) {
	keys := make([]string, shards)
	for i := range shards {
		keys[i] = workKey(i)
	}
	byKey, err := daprstate.GetBulk[work](ctx, s.db, keys)
	if err != nil {
		return nil, err
	}
	var out []order.Watch
	for _, k := range keys {
		for id, e := range byKey[k].Orders {
			out = append(out, order.Watch{OrderID: id, Mark: e.Mark, Since: e.Since})
		}
	}
	slices.SortFunc(out, func(a, b order.Watch) int { return strings.Compare(a.OrderID, b.OrderID) })
	return out, nil
}

// Unwatch removes entries whose mark has not changed.
func (s *Store) Unwatch(ctx context.Context, entries []order.Watch) error {
	byShard := map[int][]order.Watch{}
	for _, e := range entries {
		byShard[shardOf(e.OrderID)] = append(byShard[shardOf(e.OrderID)], e)
	}
	var errs []error
	for shard, remove := range byShard {
		_, err := daprstate.Update(ctx, s.db, workKey(shard), func(w *work, _ bool) error {
			removed := false
			for _, e := range remove {
				if cur, ok := w.Orders[e.OrderID]; ok && cur.Mark == e.Mark {
					delete(w.Orders, e.OrderID)
					removed = true
				}
			}
			if !removed {
				return daprstate.ErrUnchanged
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("unwatch: %w", translate(err)))
		}
	}
	return errors.Join(errs...)
}
