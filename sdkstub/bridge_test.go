package sdkstub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

// A flow cancelled while the host app's callback runs returns the context's error, and the
// SDK's bridge side has stopped writing to the result by then (run under -race).
func TestConnectCancelledDuringLogin(t *testing.T) {
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"miniapp":{"app_id":"app1","name":"m","url":"http://127.0.0.1:1/"}}`)
	}))
	defer platform.Close()
	s, err := New(Config{PlatformURL: platform.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	inCallback := make(chan struct{})
	go func() { <-inCallback; cancel() }()
	res, err := s.Connect(ctx, Options{NoTrace: true, AuthCode: func(cbctx context.Context) (string, error) {
		close(inCallback)
		<-cbctx.Done()
		return "", cbctx.Err()
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	_ = fmt.Sprint(res.Steps) // read what the bridge side wrote
	if _, ok := s.Tokens("carol", "app16973"); ok {
		t.Fatal("a cancelled flow stored tokens")
	}
}

func TestConnectRejectsBadFlowID(t *testing.T) {
	s, _ := New(Config{PlatformURL: "http://127.0.0.1:1"})
	if _, err := s.Connect(t.Context(), Options{FlowID: "has space", AuthCode: func(context.Context) (string, error) { return "c", nil }}); err == nil {
		t.Fatal("a flow id the platform would replace was accepted")
	}
}

// TestBridgeLogoutMessage: the SDK's logout reaches the miniapp as the web host SDK posts it
// (PROTOCOL §7.5), with no request_id.
func TestBridgeLogoutMessage(t *testing.T) {
	b := newBridge()
	got := make(chan []byte, 1)
	go func() {
		msg, err := b.receive(t.Context())
		if err != nil {
			t.Error(err)
		}
		got <- msg
	}()
	if err := b.push(t.Context(), HandlerLogout, map[string]string{"action": "logout"}); err != nil {
		t.Fatal(err)
	}
	want := `{"type":"appboxo-host-response","handler":"AppBoxoWebAppLogout","data":{"action":"logout"}}`
	if msg := <-got; string(msg) != want {
		t.Errorf("logout message = %s\nwant %s", msg, want)
	}
}
