package stack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/miniapp"
	"github.com/boxo-sim/boxo-sim/platform"
)

// SweepInterval is how often a running stack sweeps its stores (Sweep).
const SweepInterval = time.Minute

// stores are the databases of the parties started here, for the sweep.
type stores struct {
	host     hostapp.Store
	platform platform.Store
	miniapp  miniapp.Store
}

// Sweep deletes what the stack no longer needs, as of the stack's clock: expired codes,
// tokens and sessions in each party started here, and the flows beyond the flow log's bounds
// (Config.FlowLogMaxFlows, FlowLogMaxAge). A running stack sweeps every SweepInterval; tests
// call it after moving the clock. It returns how many records it deleted.
func (s *Stack) Sweep(ctx context.Context) (int, error) {
	now := s.Clock.Now()
	total := 0
	var errs []error
	if s.stores.host != nil {
		n, err := s.stores.host.DeleteExpired(ctx, now)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("hostapp: %w", err))
		}
	}
	if s.stores.miniapp != nil {
		n, err := s.stores.miniapp.DeleteExpired(ctx, now)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("miniapp: %w", err))
		}
	}
	if s.stores.platform != nil {
		n, err := s.stores.platform.PruneFlows(ctx, s.maxFlows, now.Add(-s.maxAge))
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("platform: %w", err))
		}
	}
	return total, errors.Join(errs...)
}

// sweepLoop sweeps every SweepInterval until stop is closed; Close waits for it before it
// closes the databases.
func (s *Stack) sweepLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(SweepInterval)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if n, err := s.Sweep(ctx); err != nil {
			s.log.Error("retention sweep failed", "err", err)
		} else if n > 0 {
			s.log.Debug("retention sweep", "deleted", n)
		}
		cancel()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}
