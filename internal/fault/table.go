package fault

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
)

// Table is one party's fault table. It is safe for concurrent use: the party's requests match
// against it while /_sim/faults or a scenario changes it.
type Table struct {
	party string
	ids   *atomic.Int64 // shared by the tables of one stack, so an id names one fault

	mu        sync.Mutex
	entries   []*entry // in id order
	lifetimes Lifetimes
}

// SetLifetimes makes the table's expire faults move the clock past these lifetimes instead
// of the defaults.
func (t *Table) SetLifetimes(l Lifetimes) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lifetimes = l
}

func (t *Table) getLifetimes() Lifetimes {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lifetimes
}

type entry struct {
	seq int64
	f   Fault
	rng *rand.Rand // non-nil when f.Probability is set
}

// NewTable returns an empty fault table for party (hostapp, platform or miniapp).
func NewTable(party string) *Table { return NewTables(party)[0] }

// NewTables returns one empty table per party, in the order given. Their ids ("f1", "f2", …)
// come from one sequence, so within one stack an id names exactly one fault.
func NewTables(parties ...string) []*Table {
	ids := new(atomic.Int64)
	ts := make([]*Table, len(parties))
	for i, p := range parties {
		ts[i] = &Table{party: p, ids: ids}
	}
	return ts
}

// Party is the party whose traffic the table's faults change.
func (t *Table) Party() string { return t.party }

// Add validates f, assigns it an id and adds it to the table with zero counters. A fault
// addressed by endpoint without a party is taken to be this party's. A fault that belongs to
// another party is refused with an error naming that party.
func (t *Table) Add(f Fault) (Fault, error) {
	added, err := t.AddAll([]Fault{f})
	if err != nil {
		return Fault{}, err
	}
	return added[0], nil
}

// MaxFaults bounds a fault table: a scenario needs a handful, and every request is matched
// against the whole table.
const MaxFaults = 1000

// ErrTableFull is returned by AddAll when the faults would not fit in MaxFaults.
var ErrTableFull = errors.New("fault table full")

// AddAll adds several faults, all or none: when one is invalid, nothing is added and the error
// names its index (for more than one fault). The added faults come back with their ids. More
// than MaxFaults in the table is ErrTableFull.
func (t *Table) AddAll(fs []Fault) ([]Fault, error) {
	checked := make([]Fault, len(fs))
	for i, f := range fs {
		if err := t.check(&f); err != nil {
			if len(fs) > 1 {
				return nil, fmt.Errorf("faults[%d]: %w", i, err)
			}
			return nil, err
		}
		checked[i] = f
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.entries)+len(checked) > MaxFaults {
		return nil, fmt.Errorf("%w: the %s holds %d of at most %d faults, so %d more do not fit: delete some (DELETE /_sim/faults clears them all)",
			ErrTableFull, t.party, len(t.entries), MaxFaults, len(checked))
	}
	for i := range checked {
		e := &entry{seq: t.ids.Add(1), f: checked[i]}
		e.f.ID = "f" + strconv.FormatInt(e.seq, 10)
		if e.f.Probability != 0 {
			e.rng = rand.New(rand.NewPCG(uint64(e.f.Seed), 0))
		}
		t.entries = append(t.entries, e)
		checked[i] = e.f
	}
	return checked, nil
}

func (t *Table) check(f *Fault) error {
	f.ID, f.Matched, f.Fired = "", 0, 0
	if f.Party == "" && f.Step == 0 {
		f.Party = t.party
	}
	if err := f.Validate(); err != nil {
		return err
	}
	if f.Party != t.party {
		if f.Step != 0 {
			return fmt.Errorf("step %d is served by %s, not %s: set this fault on the %s", f.Step, f.Party, t.party, f.Party)
		}
		return fmt.Errorf("this fault is for %s, not %s: set it on the %s", f.Party, t.party, f.Party)
	}
	return nil
}

// List returns the faults in id order, with their counters. It never returns nil.
func (t *Table) List() []Fault {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Fault, 0, len(t.entries))
	for _, e := range t.entries {
		out = append(out, e.f)
	}
	return out
}

// Get returns the fault with id.
func (t *Table) Get(id string) (Fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.entries {
		if e.f.ID == id {
			return e.f, true
		}
	}
	return Fault{}, false
}

// Delete removes the fault with id and reports whether it was there.
func (t *Table) Delete(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, e := range t.entries {
		if e.f.ID == id {
			t.entries = append(t.entries[:i], t.entries[i+1:]...)
			return true
		}
	}
	return false
}

// Clear removes every fault and returns how many there were. Ids are not reused.
func (t *Table) Clear() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.entries)
	t.entries = nil
	return n
}

// Match records a call to path on this party and returns the faults that fire on it, in id
// order. Every fault addressing path counts the call in Matched; among those, a fault with Nth
// fires on its Nth match only, one with Probability fires when the next draw of its seeded
// generator is below it, and any other fires every time; each firing counts in Fired.
func (t *Table) Match(path string) []Fault {
	t.mu.Lock()
	defer t.mu.Unlock()
	var fired []Fault
	for _, e := range t.entries {
		if !e.f.Matches(path) {
			continue
		}
		e.f.Matched++
		fire := true
		switch {
		case e.f.Nth != 0:
			fire = e.f.Matched == e.f.Nth
		case e.rng != nil:
			fire = e.rng.Float64() < e.f.Probability
		}
		if fire {
			e.f.Fired++
			fired = append(fired, e.f)
		}
	}
	return fired
}
