package sqlite

import (
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/store"
)

// TestMigrationClosesFlowsAnsweredAtStep12: a flow log written before flows closed at step
// 12 holds flows left running with step 12 ok; migration 0010 closes them.
func TestMigrationClosesFlowsAnsweredAtStep12(t *testing.T) {
	path := filepath.Join(t.TempDir(), "platform.db")
	before := fstest.MapFS{}
	for _, name := range []string{"migrations/0001_init.sql", "migrations/0002_violations.sql"} {
		b, err := fs.ReadFile(migrations, name)
		if err != nil {
			t.Fatal(err)
		}
		before[name] = &fstest.MapFile{Data: b}
	}
	old, err := store.Open(t.Context(), path, before)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO flows (id, started_at, outcome) VALUES ('answered', 0, 'running'), ('waiting', 0, 'running'), ('failed', 0, 'failed')`,
		`INSERT INTO flow_steps (flow_id, step, actor, call, status, started_at, duration_ms, outcome, error_code, note) VALUES
			('answered', 12, 'platform → sdk', 'POST /api/v1/authorize/ response', 200, 0, 1, 'ok', '', ''),
			('waiting', 5, 'sdk', 'POST /api/v1/authorize/', 0, 0, 1, 'ok', '', ''),
			('failed', 12, 'platform → sdk', 'POST /api/v1/authorize/ response', 400, 0, 1, 'failed', 'X', '')`,
	} {
		if _, err := old.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for id, want := range map[string]string{"answered": contract.OutcomeOK, "waiting": contract.OutcomeRunning, "failed": contract.OutcomeFailed} {
		if f, err := db.GetFlow(t.Context(), id); err != nil || f.Outcome != want {
			t.Errorf("flow %s: %s (%v), want %s", id, f.Outcome, err, want)
		}
	}
}
