package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestUpJSONBanner: up --json prints its banner as one JSON line on stdout, and nothing
// else there, with --demo's flow in it; the parties it names serve.
func TestUpJSONBanner(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errb lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"up", "--json", "--demo", "--ephemeral"}, allPorts0...), func(string) string { return "" }, &out, &errb)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(errb.String(), "Serving.") {
		if time.Now().After(deadline) {
			t.Fatalf("up did not get ready:\nstdout: %s\nstderr: %s", out.String(), errb.String())
		}
		select {
		case err := <-done:
			t.Fatalf("up exited early: %v\nstdout: %s\nstderr: %s", err, out.String(), errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	line := out.String()
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
		t.Fatalf("stdout is not one line:\n%s", line)
	}
	var b upBanner
	if err := json.Unmarshal([]byte(line), &b); err != nil {
		t.Fatalf("the banner is not JSON: %v\n%s", err, line)
	}
	if !b.Ephemeral || b.StateFile == "" || len(b.Parties) != 3 || b.Credentials.ClientID != "352131" || b.Credentials.HostappClientID != "hostapp-client-1" ||
		len(b.Credentials.Users) != 3 || b.Demo == nil || !b.Demo.OK || !strings.Contains(b.AdminToken, "…") {
		t.Fatalf("banner = %+v", b)
	}
	for p, s := range b.Parties {
		resp, err := http.Get(s.URL + "/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s at %s: %v", p, s.URL, err)
		}
		resp.Body.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("up after Ctrl-C: %v", err)
	}
	if out.String() != line {
		t.Errorf("up printed more on stdout after its banner:\n%s", out.String())
	}
}
