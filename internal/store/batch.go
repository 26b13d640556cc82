package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// maxBatch bounds how many Batch calls share one transaction.
const maxBatch = 64

// ErrClosed is returned by Batch once Close has begun.
var ErrClosed = errors.New("store: database is closed")

type batchItem struct {
	ctx context.Context
	fn  func(context.Context, Tx) error
	// wake is signalled once: when the item's transaction is over (done is then set and err
	// is its outcome), or when the item is to lead the next transaction.
	wake chan struct{}
	done bool
	err  error
}

// batcher is the queue of Batch's group commit. One call at a time leads: it writes what is
// queued in one transaction, then hands the lead to the first call still waiting.
type batcher struct {
	mu      sync.Mutex
	queue   []*batchItem
	leading bool
	closed  bool
	calls   sync.WaitGroup // Batch calls in progress, which Close waits for
}

// Batch runs fn in a transaction that it may share with the other Batch calls made
// meanwhile: many writes, one commit (group commit). It returns when that transaction has
// committed, so fn's writes are as durable as any commit's (they survive the process being
// killed) before the caller answers anyone. A call that finds no transaction running runs
// its own at once, in its own goroutine: alone, it waits for nothing; under load, the calls
// that arrive while one transaction commits share the next.
//
// An error from fn undoes fn's writes alone and is returned to its caller unchanged, while
// the other calls' writes commit: the transaction is rolled back and the calls run again,
// each in a savepoint of its own, so fn may run twice and must leave nothing behind but its
// writes and the variables it sets. An error of the
// shared transaction itself (its commit) is returned to every call whose fn succeeded.
// A call whose ctx is done before its turn comes is left out with ctx's error; once fn runs,
// it runs to the end. fn gets a context that is never canceled and must use it for its
// statements (a canceled statement would roll back the whole shared transaction), and must
// not call the DB.
func (d *DB) Batch(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	b := &d.batch
	it := &batchItem{ctx: ctx, fn: fn, wake: make(chan struct{}, 1)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	b.calls.Add(1)
	defer b.calls.Done()
	b.queue = append(b.queue, it)
	lead := !b.leading
	b.leading = true
	b.mu.Unlock()
	if !lead {
		<-it.wake
		if it.done {
			return it.err
		}
	}
	d.lead()
	return it.err
}

// lead writes the calls at the head of the queue in one transaction, wakes them, and hands
// the lead to the next call waiting, if any.
func (d *DB) lead() {
	b := &d.batch
	b.mu.Lock()
	n := min(len(b.queue), maxBatch)
	items := b.queue[:n:n]
	b.queue = b.queue[n:]
	b.mu.Unlock()

	d.runBatch(items)

	b.mu.Lock()
	var next *batchItem
	if len(b.queue) > 0 {
		next = b.queue[0]
	} else {
		b.leading = false
		b.queue = nil
	}
	b.mu.Unlock()
	for _, it := range items {
		it.done = true
		it.wake <- struct{}{}
	}
	if next != nil {
		next.wake <- struct{}{}
	}
}

// closeBatches refuses new Batch calls and waits for those in progress.
func (d *DB) closeBatches() {
	d.batch.mu.Lock()
	d.batch.closed = true
	d.batch.mu.Unlock()
	d.batch.calls.Wait()
}

func (d *DB) runBatch(items []*batchItem) {
	ctx := context.Background()
	live := items[:0:0]
	for _, it := range items {
		if err := it.ctx.Err(); err != nil {
			it.err = err
			continue
		}
		live = append(live, it)
	}
	if len(live) == 0 {
		return
	}
	errs := make([]error, len(live))
	defer d.wrote()
	err := inTx(ctx, d.db, func(tx Tx) error { return runItems(ctx, tx, live, errs, false) })
	if errors.Is(err, errItemFailed) {
		// One call failed inside the shared transaction, which is rolled back: run the calls
		// again, each in a savepoint of its own, so that one's failure undoes its writes alone.
		clear(errs)
		err = inTx(ctx, d.db, func(tx Tx) error { return runItems(ctx, tx, live, errs, true) })
	}
	for i, it := range live {
		if it.err = errs[i]; it.err == nil {
			it.err = err
		}
	}
}

// errItemFailed stops the first, savepoint-free pass of a batch at its first failing call.
var errItemFailed = errors.New("store: a batched call failed")

// runItems runs the batch's calls in tx. Most batches succeed whole, so the first pass
// runs them one after another with no savepoints (two statements less per call) and gives
// up at the first error; the second pass, after a rollback, wraps each call in a savepoint.
// A batch of one call needs no savepoint: its error is the transaction's.
func runItems(ctx context.Context, tx Tx, live []*batchItem, errs []error, savepoints bool) error {
	if len(live) == 1 {
		errs[0] = callSafely(ctx, tx, live[0].fn)
		return errs[0]
	}
	for i, it := range live {
		if !savepoints {
			if errs[i] = callSafely(ctx, tx, it.fn); errs[i] != nil {
				return errItemFailed
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT batch_item`); err != nil {
			return err
		}
		if errs[i] = callSafely(ctx, tx, it.fn); errs[i] != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO batch_item`); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE batch_item`); err != nil {
			return err
		}
	}
	return nil
}

// callSafely turns a panic in fn into its error, so one bad write cannot end the process
// from inside another request's transaction.
func callSafely(ctx context.Context, tx Tx, fn func(context.Context, Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: panic in a batched write: %v", p)
		}
	}()
	return fn(ctx, tx)
}
