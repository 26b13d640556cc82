package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

// A WAL checkpoint copies committed pages from the write-ahead log back into the database
// file and syncs that file to disk. SQLite runs one by default inside the commit that pushes
// the log past 1,000 pages, so the writer — and every write queued behind it — waits for a
// disk sync. Here the writer connection leaves checkpoints to a second connection that runs
// them in the background (PASSIVE: it never waits for the writer, and the writer never waits
// for it). Commits stay exactly as durable: a commit is in the log, and a killed process
// loses nothing; only the copying moves.
const (
	// checkpointEvery is how often the background connection copies the log back when
	// there were commits since its last pass.
	checkpointEvery = 200 * time.Millisecond
	// writerCheckpointPages is the writer's own automatic checkpoint, kept as a safety net for
	// a log the background connection cannot keep short (it only runs past this many pages).
	writerCheckpointPages = 10000
)

// driverName is the mattn driver with the writer's checkpoint threshold set on each new
// connection: a PRAGMA run once after Open would be lost if database/sql ever reopened it.
const driverName = "sqlite3_boxo_sim"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec(fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", writerCheckpointPages), nil)
			return err
		},
	})
}

// checkpointer runs PASSIVE checkpoints on a connection of its own while commits happen.
type checkpointer struct {
	db      *sql.DB
	commits atomic.Uint64 // bumped by the writer after each commit
	stop    chan struct{}
	done    sync.WaitGroup
	closed  sync.Once
}

func startCheckpointer(dsn string) (*checkpointer, error) {
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	// Its one connection stays open between passes: the idle limit follows it down to 1 and
	// connections have no age limits by default.
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, stop: make(chan struct{})}
	c.done.Add(1)
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer c.done.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	var seen uint64
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if n := c.commits.Load(); n != seen {
			seen = n
			// An error (a busy or read-only file) only leaves the pages in the log for the
			// next pass, or for the writer's own checkpoint.
			_, _ = c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// close stops the background passes; the writer's connection, closing last, checkpoints
// what remains and removes the log.
func (c *checkpointer) close() error {
	c.closed.Do(func() { close(c.stop) })
	c.done.Wait()
	return c.db.Close()
}
