package sdkstub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Bridge handler names (PROTOCOL §4.5).
const (
	HandlerInit        = "AppBoxoWebAppInit"
	HandlerGetInitData = "AppBoxoWebAppGetInitData"
	HandlerLogin       = "AppBoxoWebAppLogin"
	HandlerLogout      = "AppBoxoWebAppLogout"
	// The legacy login path's handlers (PROTOCOL §4.3 b, §4.5).
	HandlerShowAuthConfirmBox = "AppBoxoWebAppShowAuthConfirmBox"
	HandlerSaveToken          = "AppBoxoWebAppSaveToken"
)

// Envelope types of the iframe transport, which the simulator uses for its in-process bridge
// (PROTOCOL §4.1, §9.33).
const (
	typeRequest  = "appboxo-js-sdk"
	typeResponse = "appboxo-host-response"
)

// bridgeRequest is a miniapp → SDK message.
type bridgeRequest struct {
	Type       string          `json:"type"`
	Handler    string          `json:"handler"`
	Params     json.RawMessage `json:"params"`
	SDKVersion string          `json:"sdkVersion,omitempty"`
}

// bridgeResponse is an SDK → miniapp message.
type bridgeResponse struct {
	Type      string          `json:"type"`
	Handler   string          `json:"handler"`
	Data      json.RawMessage `json:"data"`
	RequestID int             `json:"request_id"`
}

// BridgeError is the data of a bridge error answer (PROTOCOL §4.4).
type BridgeError struct {
	ErrorType string          `json:"error_type"`
	ErrorData BridgeErrorData `json:"error_data"`
}

// BridgeErrorData carries the code and reason of a BridgeError.
type BridgeErrorData struct {
	ErrorCode        int      `json:"error_code"`
	ErrorReason      string   `json:"error_reason"`
	ErrorDescription []string `json:"error_description"`
}

func (e *BridgeError) Error() string {
	return fmt.Sprintf("bridge %s %d %s %v", e.ErrorType, e.ErrorData.ErrorCode, e.ErrorData.ErrorReason, e.ErrorData.ErrorDescription)
}

// LoginPayload is the token pair inside the AppBoxoWebAppLogin answer (PROTOCOL §3.14).
type LoginPayload struct {
	Token        string `json:"token"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// InitData is the AppBoxoWebAppGetInitData answer (PROTOCOL §3.2).
type InitData struct {
	AppID        string          `json:"app_id"`
	ClientID     string          `json:"client_id"`
	Payload      string          `json:"payload"`
	Data         json.RawMessage `json:"data"`
	Token        string          `json:"token,omitempty"`
	RefreshToken string          `json:"refresh_token,omitempty"`
	SandboxMode  bool            `json:"sandbox_mode"`
}

// bridge is the JSON message channel between a miniapp frontend and the SDK. Every message
// crosses it as JSON text, so both ends see exactly the envelopes PROTOCOL §4.1 describes.
type bridge struct {
	toSDK     chan []byte
	toMiniapp chan []byte
	nextID    int
}

func newBridge() *bridge {
	return &bridge{toSDK: make(chan []byte), toMiniapp: make(chan []byte)}
}

// call sends a request from the miniapp side and waits for its answer, as the JS SDK's
// sendPromise does (PROTOCOL §4.2): request_id counts from 1, the answer must carry it, and an
// answer with error_type rejects.
func (b *bridge) call(ctx context.Context, handler string, params map[string]any) (json.RawMessage, error) {
	b.nextID++
	id := b.nextID
	if params == nil {
		params = map[string]any{}
	}
	params["request_id"] = id
	p, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	msg, err := json.Marshal(bridgeRequest{Type: typeRequest, Handler: handler, Params: p, SDKVersion: "1.9.0"})
	if err != nil {
		return nil, err
	}
	select {
	case b.toSDK <- msg:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var raw []byte
	select {
	case raw = <-b.toMiniapp:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var resp bridgeResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, fmt.Errorf("bridge: bad answer: %w", err)
	}
	if resp.Type != typeResponse || resp.Handler != handler || resp.RequestID != id {
		return nil, fmt.Errorf("bridge: answer for %s #%d does not match request %s #%d", resp.Handler, resp.RequestID, handler, id)
	}
	var probe struct {
		ErrorType *string `json:"error_type"`
	}
	if err := json.Unmarshal(resp.Data, &probe); err == nil && probe.ErrorType != nil {
		var be BridgeError
		if err := json.Unmarshal(resp.Data, &be); err != nil {
			return nil, fmt.Errorf("bridge: bad error answer: %w", err)
		}
		return nil, &be
	}
	return resp.Data, nil
}

// push sends the SDK's own message to the miniapp, not an answer to a request: the web host
// SDK's logout message is one (PROTOCOL §7.5). It carries no request_id.
func (b *bridge) push(ctx context.Context, handler string, data any) error {
	d, err := json.Marshal(data)
	if err != nil {
		return err
	}
	msg, err := json.Marshal(struct {
		Type    string          `json:"type"`
		Handler string          `json:"handler"`
		Data    json.RawMessage `json:"data"`
	}{typeResponse, handler, d})
	if err != nil {
		return err
	}
	select {
	case b.toMiniapp <- msg:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// receive is the miniapp side waiting for the SDK's next message.
func (b *bridge) receive(ctx context.Context) ([]byte, error) {
	select {
	case msg := <-b.toMiniapp:
		return msg, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// noAnswer is what a handler returns for a message that gets no answer (AppBoxoWebAppInit).
type noAnswer struct{}

// notify sends a message that gets no answer (PROTOCOL §3.2: AppBoxoWebAppInit).
func (b *bridge) notify(ctx context.Context, handler string) error {
	return b.notifyWith(ctx, handler, map[string]any{})
}

// notifyWith sends a message with params that gets no answer (AppBoxoWebAppSaveToken).
func (b *bridge) notifyWith(ctx context.Context, handler string, params map[string]any) error {
	p, err := json.Marshal(params)
	if err != nil {
		return err
	}
	msg, err := json.Marshal(bridgeRequest{Type: typeRequest, Handler: handler, Params: p, SDKVersion: "1.9.0"})
	if err != nil {
		return err
	}
	select {
	case b.toSDK <- msg:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serve answers the miniapp's requests with handle until ctx ends. handle returns the answer's
// data, or a *BridgeError.
func (b *bridge) serve(ctx context.Context, handle func(ctx context.Context, handler string, params json.RawMessage) (any, error)) {
	for {
		var raw []byte
		select {
		case raw = <-b.toSDK:
		case <-ctx.Done():
			return
		}
		var req bridgeRequest
		if err := json.Unmarshal(raw, &req); err != nil || req.Type != typeRequest {
			continue // the web host SDK ignores messages of other types
		}
		var ids struct {
			RequestID int `json:"request_id"`
		}
		_ = json.Unmarshal(req.Params, &ids)
		data, err := handle(ctx, req.Handler, req.Params)
		if _, none := data.(noAnswer); none && err == nil {
			continue
		}
		if err != nil {
			var be *BridgeError
			if !errors.As(err, &be) {
				be = clientError(500, "UNKNOWN_ERROR", err.Error())
			}
			data = be
		}
		d, merr := json.Marshal(data)
		if merr != nil {
			d = []byte(`{}`)
		}
		resp, _ := json.Marshal(bridgeResponse{Type: typeResponse, Handler: req.Handler, Data: d, RequestID: ids.RequestID})
		select {
		case b.toMiniapp <- resp:
		case <-ctx.Done():
			return
		}
	}
}

func authError(code int, reason string, desc ...string) *BridgeError {
	if desc == nil {
		desc = []string{}
	}
	return &BridgeError{ErrorType: "auth_error", ErrorData: BridgeErrorData{ErrorCode: code, ErrorReason: reason, ErrorDescription: desc}}
}

func clientError(code int, reason string, desc ...string) *BridgeError {
	if desc == nil {
		desc = []string{}
	}
	return &BridgeError{ErrorType: "client_error", ErrorData: BridgeErrorData{ErrorCode: code, ErrorReason: reason, ErrorDescription: desc}}
}
