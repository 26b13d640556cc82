package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func openTest(t *testing.T, opts ...Option) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), migrations, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// modes are the two ways Open opens a database; the tests of transactions run in both.
var modes = []struct {
	name string
	opts []Option
}{{"wal", nil}, {"ephemeral", []Option{Ephemeral}}}

// inModes runs test once for each of modes, with a database opened that way.
func inModes(t *testing.T, test func(t *testing.T, db *DB)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { test(t, openTest(t, m.opts...)) })
	}
}

// holdBatches blocks the lead in a write of its own until n calls are queued
// behind it, so they share the next transactions; call the returned function after starting
// them.
func holdBatches(t *testing.T, db *DB, n int) func() {
	release, held := make(chan struct{}), make(chan struct{})
	go func() {
		_ = db.Batch(t.Context(), func(context.Context, Tx) error { close(held); <-release; return nil })
	}()
	<-held
	return func() {
		for {
			db.batch.mu.Lock()
			queued := len(db.batch.queue)
			db.batch.mu.Unlock()
			if queued >= n {
				break
			}
			time.Sleep(time.Millisecond)
		}
		close(release)
	}
}

// TestBatchKeepsEachCallsOutcome runs many writes in shared transactions, every third of
// them failing after it wrote: the failed ones leave nothing and get their own error, the
// others all commit.
func TestBatchKeepsEachCallsOutcome(t *testing.T) {
	inModes(t, func(t *testing.T, db *DB) {
		boom := errors.New("boom")
		var wg sync.WaitGroup
		errs := make([]error, 90)
		go holdBatches(t, db, len(errs))()
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = db.Batch(t.Context(), func(ctx context.Context, tx Tx) error {
					if _, err := tx.ExecContext(ctx, `INSERT INTO t (name) VALUES (?)`, fmt.Sprint("n", i)); err != nil {
						return err
					}
					if i%3 == 0 {
						return fmt.Errorf("call %d: %w", i, boom)
					}
					return nil
				})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if (i%3 == 0) != errors.Is(err, boom) || (i%3 != 0 && err != nil) {
				t.Errorf("call %d: %v", i, err)
			}
			var n int
			if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM t WHERE name = ?`, fmt.Sprint("n", i)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 0, false: 1}[i%3 == 0]; n != want {
				t.Errorf("call %d: %d rows, want %d", i, n, want)
			}
		}
	})
}

// TestBatchGateHasOneWinner: of many calls that each claim the same row with a conditional
// UPDATE, exactly one succeeds, whether they share a transaction or not.
func TestBatchGateHasOneWinner(t *testing.T) {
	inModes(t, func(t *testing.T, db *DB) {
		if _, err := db.ExecContext(t.Context(), `INSERT INTO t (name, note) VALUES ('code', '')`); err != nil {
			t.Fatal(err)
		}
		used := errors.New("used")
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		go holdBatches(t, db, 64)()
		for i := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := db.Batch(t.Context(), func(ctx context.Context, tx Tx) error {
					res, err := tx.ExecContext(ctx, `UPDATE t SET note = ? WHERE name = 'code' AND note = ''`, fmt.Sprint("winner ", i))
					if err != nil {
						return err
					}
					if n, _ := res.RowsAffected(); n == 0 {
						return used
					}
					_, err = tx.ExecContext(ctx, `INSERT INTO t (name) VALUES (?)`, fmt.Sprint("token ", i))
					return err
				})
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if !errors.Is(err, used) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		var tokens int
		_ = db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM t WHERE name LIKE 'token %'`).Scan(&tokens)
		if wins != 1 || tokens != 1 {
			t.Fatalf("%d winners, %d tokens issued; want 1 and 1", wins, tokens)
		}
	})
}

// TestBatchSkipsACanceledCall and turns a panic into the caller's error, leaving the writer
// working.
func TestBatchSkipsACanceledCallAndSurvivesAPanic(t *testing.T) {
	db := openTest(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	if err := db.Batch(ctx, func(context.Context, Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("canceled call: %v, ran %v", err, ran)
	}
	if err := db.Batch(t.Context(), func(context.Context, Tx) error { panic("oops") }); err == nil {
		t.Fatal("a panic in a batched write was not reported")
	}
	if err := db.Batch(t.Context(), func(ctx context.Context, tx Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO t (name) VALUES ('after')`)
		return err
	}); err != nil {
		t.Fatalf("Batch stopped working after a panic: %v", err)
	}
	db.Close()
	if err := db.Batch(t.Context(), func(context.Context, Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Batch after Close: %v", err)
	}
}

// TestReadsSeeBatchedWrites: Batch returns once its write is committed, so the next read
// finds it.
func TestReadsSeeBatchedWrites(t *testing.T) {
	db := openTest(t)
	for i := range 50 {
		name := fmt.Sprint("r", i)
		if err := db.Batch(t.Context(), func(ctx context.Context, tx Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO t (name) VALUES (?)`, name)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM t WHERE name = ?`, name).Scan(&n); err != nil || n != 1 {
			t.Fatalf("read after write %d: %d rows (%v)", i, n, err)
		}
	}
}

// TestCacheKeepsNothingLoadedAcrossAClear: a value loaded while a write cleared the cache is
// returned to its reader but not kept.
func TestCacheKeepsNothingLoadedAcrossAClear(t *testing.T) {
	var c Cache[string, int]
	loads := 0
	v, _ := c.Get("k", func() (int, error) { loads++; c.Clear(); return 1, nil })
	if v != 1 {
		t.Fatalf("got %d", v)
	}
	v, _ = c.Get("k", func() (int, error) { loads++; return 2, nil })
	if v != 2 || loads != 2 {
		t.Fatalf("a value loaded across a Clear was kept: got %d after %d loads", v, loads)
	}
	v, _ = c.Get("k", func() (int, error) { loads++; return 3, nil })
	if v != 2 || loads != 2 {
		t.Fatalf("the cache did not keep a value: got %d after %d loads", v, loads)
	}
	if _, err := c.Get("e", func() (int, error) { return 0, errors.New("no") }); err == nil {
		t.Fatal("error lost")
	}
	v, _ = c.Get("e", func() (int, error) { return 5, nil })
	if v != 5 {
		t.Fatal("an error was kept as a value")
	}
	c.Clear()
	v, _ = c.Get("k", func() (int, error) { return 4, nil })
	if v != 4 {
		t.Fatal("Clear kept a value")
	}
}
