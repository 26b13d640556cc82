package sdkstub

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

func TestBridgeCorrelatesAndRejects(t *testing.T) {
	b := newBridge()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var seen []string
	go b.serve(ctx, func(_ context.Context, handler string, params json.RawMessage) (any, error) {
		seen = append(seen, handler+" "+string(params))
		switch handler {
		case HandlerInit:
			return noAnswer{}, nil
		case HandlerGetInitData:
			return InitData{AppID: "app1", ClientID: "c1", Data: json.RawMessage("null")}, nil
		case HandlerLogin:
			return nil, authError(403, CodeUserDenied)
		}
		return nil, clientError(404, "UNSUPPORTED_EVENT", handler)
	})

	if err := b.notify(ctx, HandlerInit); err != nil {
		t.Fatal(err)
	}
	data, err := b.call(ctx, HandlerGetInitData, nil)
	if err != nil {
		t.Fatal(err)
	}
	var init InitData
	if err := json.Unmarshal(data, &init); err != nil || init.AppID != "app1" || init.ClientID != "c1" {
		t.Fatalf("init data = %s (%v)", data, err)
	}
	_, err = b.call(ctx, HandlerLogin, map[string]any{"confirmModalText": "ok?"})
	var be *BridgeError
	if !errors.As(err, &be) || be.ErrorType != "auth_error" || be.ErrorData.ErrorCode != 403 || be.ErrorData.ErrorReason != CodeUserDenied {
		t.Fatalf("login rejection = %v", err)
	}
	_, err = b.call(ctx, "AppBoxoWebAppNoSuchThing", nil)
	if !errors.As(err, &be) || be.ErrorType != "client_error" || be.ErrorData.ErrorCode != 404 {
		t.Fatalf("unknown handler = %v", err)
	}
	// request_id counts from 1 per bridge, and the SDK saw it in the params.
	want := []string{
		HandlerInit + " {}",
		HandlerGetInitData + ` {"request_id":1}`,
		HandlerLogin + ` {"confirmModalText":"ok?","request_id":2}`,
		`AppBoxoWebAppNoSuchThing {"request_id":3}`,
	}
	if len(seen) != len(want) {
		t.Fatalf("SDK saw %q", seen)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Errorf("message %d = %s, want %s", i, seen[i], want[i])
		}
	}
}

func TestNewValidatesConfig(t *testing.T) {
	for _, c := range []Config{{}, {PlatformURL: "ftp://x"}, {PlatformURL: "http://127.0.0.1:1", HostURL: "not a url"}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted a bad config", c)
		}
	}
	s, err := New(Config{PlatformURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Connect(t.Context(), Options{}); err == nil {
		t.Error("Connect without a host URL or AuthCode ran")
	}
}

func TestForgetAndNoTokens(t *testing.T) {
	s, err := New(Config{PlatformURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Refresh(t.Context(), "alice", ""); !errors.Is(err, ErrNoTokens) {
		t.Fatalf("Refresh without tokens: %v, want ErrNoTokens", err)
	}
	s.storeTokens("alice", "app1", session{LoginPayload: LoginPayload{Token: "t", RefreshToken: "r"}})
	if !s.Forget("alice", "app1") || s.Forget("alice", "app1") {
		t.Fatal("Forget did not report what it dropped")
	}
	if _, ok := s.Tokens("alice", "app1"); ok {
		t.Fatal("tokens still held after Forget")
	}
}
