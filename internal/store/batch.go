package store

import (
	"context"
	"database/sql"
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
	fn  func(context.Context, *sql.Tx) error
	err chan error
}

// batchGate lets Close wait for the Batch calls that are queueing their work.
type batchGate struct {
	mu     sync.RWMutex
	closed bool
}

// Batch runs fn in a transaction that it may share with the other Batch calls
// made meanwhile: many writes, one commit (group commit). It returns when that transaction
// has committed, so fn's writes are as durable as any commit's (they survive the process
// being killed) before the caller answers anyone; a single caller pays no wait, since a
// transaction starts as soon as the connection is free and takes what is queued then.
//
// fn runs inside a savepoint of its own: an error from fn undoes fn's writes alone and is
// returned to its caller unchanged, while the other calls' writes commit. An error of the
// shared transaction itself (its commit) is returned to every call whose fn succeeded.
// A call whose ctx is done before its turn comes is left out with ctx's error; once fn runs,
// it runs to the end. fn gets a context that is never canceled and must use it for its
// statements (a canceled statement would roll back the whole shared transaction), and must
// not call the DB.
func (d *DB) Batch(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	it := &batchItem{ctx: ctx, fn: fn, err: make(chan error, 1)}
	d.gate.mu.RLock()
	if d.gate.closed {
		d.gate.mu.RUnlock()
		return ErrClosed
	}
	d.batch <- it
	d.gate.mu.RUnlock()
	return <-it.err
}

// commitBatches is the goroutine of Batch: it takes the first call waiting, every other one
// waiting at that moment, and writes them in one transaction.
func (d *DB) commitBatches() {
	defer d.done.Done()
	for {
		var first *batchItem
		select {
		case first = <-d.batch:
		case <-d.stop:
			// Close has shut the gate: nothing more comes, so what is queued is all there is.
			for {
				select {
				case it := <-d.batch:
					d.runBatch([]*batchItem{it})
				default:
					return
				}
			}
		}
		items := []*batchItem{first}
	more:
		for len(items) < maxBatch {
			select {
			case it := <-d.batch:
				items = append(items, it)
			default:
				break more
			}
		}
		d.runBatch(items)
	}
}

func (d *DB) runBatch(items []*batchItem) {
	ctx := context.Background()
	live := items[:0:0]
	for _, it := range items {
		if err := it.ctx.Err(); err != nil {
			it.err <- err
			continue
		}
		live = append(live, it)
	}
	if len(live) == 0 {
		return
	}
	items = live
	errs := make([]error, len(items))
	err := inTx(ctx, d.db, func(tx *sql.Tx) error {
		if len(items) == 1 {
			errs[0] = callSafely(ctx, tx, items[0].fn)
			return errs[0]
		}
		for i, it := range items {
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
	})
	for i, it := range items {
		switch {
		case errs[i] != nil:
			it.err <- errs[i]
		default:
			it.err <- err
		}
	}
}

// callSafely turns a panic in fn into its error: fn runs on the batch goroutine, where a
// panic would end the process rather than one request.
func callSafely(ctx context.Context, tx *sql.Tx, fn func(context.Context, *sql.Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: panic in a batched write: %v", p)
		}
	}()
	return fn(ctx, tx)
}
