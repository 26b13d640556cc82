package stack

import (
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// ProcessStats is what GET /_sim/process answers on every party: the resources of the
// process serving it, as the process measures itself, so a load generator can tell the
// server's CPU from its own. Parties of one stack answer the same Instance.
type ProcessStats struct {
	Instance   string `json:"instance"` // random, one per process
	PID        int    `json:"pid"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	// CPUSeconds is the user and system CPU time the process has used since it started;
	// 0 where the system does not tell (then Measured is false).
	CPUSeconds  float64 `json:"cpu_seconds"`
	MaxRSSBytes int64   `json:"max_rss_bytes"` // peak resident memory
	RSSBytes    int64   `json:"rss_bytes"`     // resident memory now; 0 where unknown
	Goroutines  int     `json:"goroutines"`
	// The runtime's counters since the process started: heap bytes and objects allocated,
	// goroutines started, garbage collections. Differences over a run tell what one flow
	// costs without the noise of time.
	HeapAllocBytes    uint64 `json:"heap_alloc_bytes"`
	HeapAllocs        uint64 `json:"heap_allocs"`
	GoroutinesStarted uint64 `json:"goroutines_started"`
	GCCycles          uint64 `json:"gc_cycles"`
	Measured          bool   `json:"measured"`
	// At is when the figures were read.
	At time.Time `json:"at"`
}

var processInstance = contract.RandomHex(8)

// ReadProcessStats measures this process.
func ReadProcessStats() ProcessStats {
	p := ProcessStats{Instance: processInstance, PID: os.Getpid(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Goroutines: runtime.NumGoroutine(), At: time.Now().UTC()}
	p.CPUSeconds, p.MaxRSSBytes, p.RSSBytes, p.Measured = usage()
	m := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/allocs:objects"},
		{Name: "/sched/goroutines-created:goroutines"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(m)
	for i, dst := range []*uint64{&p.HeapAllocBytes, &p.HeapAllocs, &p.GoroutinesStarted, &p.GCCycles} {
		if m[i].Value.Kind() == metrics.KindUint64 {
			*dst = m[i].Value.Uint64()
		}
	}
	return p
}

// handleProcess serves GET /_sim/process.
func handleProcess() contract.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) error {
		contract.WriteJSON(w, http.StatusOK, ReadProcessStats())
		return nil
	}
}
