package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// The flow log's change stream, GET /_sim/flows/events: Server-Sent Events that tell the
// console which flows changed, so a new flow appears the moment its first step is recorded
// without the page asking again and again (DESIGN.md "Speed budget": no polling anywhere).

// maxPendingFlows bounds what one slow event stream may have queued; past it the stream
// sends "reset" and the console reloads the list instead.
const maxPendingFlows = 256

// flowHub tells every open event stream which flows were written. Publishing costs one
// mutex and no allocation when nobody listens, so the Connect path stays cheap.
type flowHub struct {
	mu   sync.Mutex
	subs map[*flowSub]struct{}
}

func newFlowHub() *flowHub { return &flowHub{subs: map[*flowSub]struct{}{}} }

// flowSub is one stream's queue: flow ids in the order they first changed, each once.
type flowSub struct {
	mu       sync.Mutex
	pending  []string
	queued   map[string]bool
	overflow bool
	wake     chan struct{} // capacity 1: "there is something to send"
}

func (h *flowHub) subscribe() *flowSub {
	sub := &flowSub{queued: map[string]bool{}, wake: make(chan struct{}, 1)}
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	return sub
}

func (h *flowHub) unsubscribe(sub *flowSub) {
	h.mu.Lock()
	delete(h.subs, sub)
	h.mu.Unlock()
}

// publish queues id on every stream; it never blocks on a stream.
func (h *flowHub) publish(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		sub.add(id)
	}
}

func (s *flowSub) add(id string) {
	s.mu.Lock()
	switch {
	case s.overflow || s.queued[id]:
	case len(s.pending) >= maxPendingFlows:
		s.overflow, s.pending, s.queued = true, nil, map[string]bool{}
	default:
		s.pending = append(s.pending, id)
		s.queued[id] = true
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take returns the queued ids and whether the queue overflowed, and empties it.
func (s *flowSub) take() ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, overflow := s.pending, s.overflow
	s.pending, s.queued, s.overflow = nil, map[string]bool{}, false
	return ids, overflow
}

// notifyingStore is the platform's Store that publishes the id of every flow it writes,
// whoever writes it (authorize, the SDK's posted steps). Every Store method that writes the
// flow log must be overridden here, or the console misses those writes (TestFlowEvents
// posts steps the way an SDK does and waits for their event).
type notifyingStore struct {
	Store
	hub *flowHub
}

func (n notifyingStore) RecordFlow(ctx context.Context, rec FlowRecord) error {
	err := n.Store.RecordFlow(ctx, rec)
	if err == nil {
		n.hub.publish(rec.FlowID)
	}
	return err
}

func (n notifyingStore) RecordSDKSteps(ctx context.Context, rec FlowRecord, check func(exists bool, mode string, steps []contract.FlowStep) error) error {
	err := n.Store.RecordSDKSteps(ctx, rec, check)
	if err == nil {
		n.hub.publish(rec.FlowID)
	}
	return err
}

// handleFlowEvents is GET /_sim/flows/events, a text/event-stream:
//
//	event: ready   data: {}               once subscribed: load the list now, nothing is missed
//	event: flow    data: <flow summary>   a flow was created or got steps (as in GET /_sim/flows)
//	event: reset   data: {}               too much changed at once: load the list again
//
// The stream ends when the caller leaves or the server shuts down (Config.Done); the
// browser's EventSource then reconnects by itself and gets "ready" again.
func (s *server) handleFlowEvents() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		sub := s.flows.subscribe()
		defer s.flows.unsubscribe(sub)
		rc := http.NewResponseController(w)
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		send := func(event string, v any) error {
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
				return err
			}
			return nil
		}
		if _, err := fmt.Fprint(w, "retry: 1000\n"); err != nil {
			return nil
		}
		if send("ready", struct{}{}) != nil || rc.Flush() != nil {
			return nil // the caller left, or the writer cannot stream: nothing more to say
		}
		for {
			select {
			case <-r.Context().Done():
				return nil
			case <-s.done:
				return nil
			case <-sub.wake:
			}
			ids, overflow := sub.take()
			if overflow {
				if send("reset", struct{}{}) != nil {
					return nil
				}
			}
			for _, id := range ids {
				fs, err := s.store.ListFlows(r.Context(), FlowFilter{ID: id, Limit: 1})
				if err != nil {
					if r.Context().Err() == nil {
						s.log.ErrorContext(r.Context(), "flow event stream: read flow", "flow_id", id, "err", err)
					}
					return nil
				}
				if len(fs) == 0 {
					continue // pruned since
				}
				if send("flow", summaryOut(fs[0])) != nil {
					return nil
				}
			}
			if rc.Flush() != nil {
				return nil
			}
		}
	}
}
