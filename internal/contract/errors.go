package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
)

// Error is a failure a handler reports on purpose. The route's form decides how it goes on
// the wire: Always200 writes {"error_code": Code}; Envelope writes PROTOCOL §2.5's envelope;
// OAuth writes {"error": Code, "error_description": Message}.
type Error struct {
	Code    string // a PROTOCOL §5.1 code, or an OAuth error value for the OAuth form
	Message string // human-readable text; never a secret. On the platform, Boxo's error_message (§5.1)
	// Detail is the simulator's own explanation when Message is Boxo's generic text; the
	// envelope carries it as custom_attributes.detail.
	Detail string
	Status int // HTTP status; zero means the form's default
	// Source and Step fill the envelope's custom_attributes (PROTOCOL §2.5, §3.13).
	Source string
	Step   int
	// Extra adds keys to custom_attributes, e.g. "missing" for RESPONSE_ATTRIBUTE_MISSING.
	Extra map[string]any
	// Header is added to the response, e.g. WWW-Authenticate for invalid_client.
	Header http.Header
}

func (e *Error) Error() string {
	switch {
	case e.Detail != "":
		return e.Code + ": " + e.Detail
	case e.Message == "":
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Explanation is the most specific text of e: its Detail, else its Message.
func (e *Error) Explanation() string {
	if e.Detail != "" {
		return e.Detail
	}
	return e.Message
}

// BoxoError makes the platform's *Error for code (contract §5.1): Message is Boxo's
// error_message with fill in its placeholders, Detail the simulator's explanation. For a
// code without a published text, Message is the explanation.
func BoxoError(code string, fill []string, detail string) *Error {
	e := &Error{Code: code, Message: detail}
	if msg := Message(code, fill...); msg != "" && !strings.Contains(msg, "{") {
		e.Message, e.Detail = msg, detail
	}
	return e
}

// Errorf makes an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// HandlerFunc is a handler that reports failure by returning an error. A returned *Error is
// rendered in the route's form; any other error is logged and rendered as an internal error
// without its details.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Form turns a HandlerFunc into an http.Handler that renders its errors one way.
type Form func(HandlerFunc) http.Handler

func serve(log *slog.Logger, h HandlerFunc, internal *Error, render func(http.ResponseWriter, *Error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		func() {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler { //nolint:errorlint // sentinel compared by identity, as net/http does
						panic(p)
					}
					log.ErrorContext(r.Context(), "handler panic", "panic", p, "stack", string(debug.Stack()))
					err = errors.New("panic")
				}
			}()
			err = h(w, r)
		}()
		if err == nil {
			return
		}
		var ce *Error
		if !errors.As(err, &ce) {
			log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			ce = internal
		}
		for k, vs := range ce.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		render(w, ce)
	})
}

// Always200 renders failures as PROTOCOL §2.3 asks of the endpoints the platform calls:
// HTTP 200 with {"error_code": ...}. An Error with a Status (NOT_A_WHITELISTED_IP's 403, §7.6)
// keeps that status.
func Always200(log *slog.Logger) Form {
	return func(h HandlerFunc) http.Handler {
		return serve(log, h, &Error{Code: CodeUnknownError}, func(w http.ResponseWriter, e *Error) {
			status := e.Status
			if status == 0 {
				status = http.StatusOK
			}
			WriteJSON(w, status, map[string]string{"error_code": e.Code})
		})
	}
}

// Envelope renders failures as the platform's error envelope (PROTOCOL §2.4, §2.5): HTTP 400
// unless the Error says otherwise, custom_attributes with source and step.
func Envelope(log *slog.Logger) Form {
	return func(h HandlerFunc) http.Handler {
		// PROTOCOL §2.4: 400 on any error, an unexpected one included.
		return serve(log, h, BoxoError(CodeUnknownError, nil, "unexpected failure"),
			func(w http.ResponseWriter, e *Error) { WriteEnvelope(w, e) })
	}
}

// WriteEnvelope writes e as PROTOCOL §2.5's envelope.
func WriteEnvelope(w http.ResponseWriter, e *Error) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	attrs := map[string]any{}
	for k, v := range e.Extra {
		attrs[k] = v
	}
	source := e.Source
	if source == "" {
		source = PartyPlatform
	}
	attrs["source"] = source
	if e.Step != 0 {
		attrs["step"] = e.Step
	}
	if e.Detail != "" {
		attrs["detail"] = e.Detail
	}
	msg := e.Message
	if msg == "" {
		msg = e.Code
	}
	WriteJSON(w, status, ErrorEnvelope{ErrorCode: e.Code, ErrorMessage: msg, CustomAttributes: attrs})
}

// ErrorEnvelope is the platform's error body (PROTOCOL §2.5).
type ErrorEnvelope struct {
	ErrorCode        string         `json:"error_code"`
	ErrorMessage     string         `json:"error_message"`
	Exception        string         `json:"exception,omitempty"`
	CustomAttributes map[string]any `json:"custom_attributes,omitempty"`
}

// Source returns custom_attributes.source, or "" when absent.
func (e ErrorEnvelope) Source() string {
	s, _ := e.CustomAttributes["source"].(string)
	return s
}

// Detail returns custom_attributes.detail, the simulated platform's own explanation, or ""
// when absent.
func (e ErrorEnvelope) Detail() string {
	s, _ := e.CustomAttributes["detail"].(string)
	return s
}

// Explained is error_message followed by the detail in brackets, when there is one.
func (e ErrorEnvelope) Explained() string {
	if d := e.Detail(); d != "" && d != e.ErrorMessage {
		return e.ErrorMessage + " [" + d + "]"
	}
	return e.ErrorMessage
}

// Step returns custom_attributes.step, or 0 when absent.
func (e ErrorEnvelope) Step() int {
	switch v := e.CustomAttributes["step"].(type) {
	case float64:
		return int(v)
	case int:
		return v
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	}
	return 0
}

// OAuth renders failures in RFC 6749's form (PROTOCOL §6.6): {"error", "error_description"},
// status 400 unless the Error says otherwise, no caching.
func OAuth(log *slog.Logger) Form {
	return func(h HandlerFunc) http.Handler {
		return serve(log, h, &Error{Code: OAuthServerError, Message: "unexpected failure", Status: http.StatusInternalServerError},
			func(w http.ResponseWriter, e *Error) { WriteOAuthError(w, e) })
	}
}

// WriteOAuthError writes e in RFC 6749's error form.
func WriteOAuthError(w http.ResponseWriter, e *Error) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	body := map[string]string{"error": e.Code}
	if e.Message != "" {
		body["error_description"] = e.Message
	}
	WriteJSON(w, status, body)
}

// Plain renders failures as {"error": Code, "error_description": Message}, the form of the
// simulator's own JSON routes (the miniapp's /api/..., /_sim/...). Status defaults to 400.
func Plain(log *slog.Logger) Form {
	return func(h HandlerFunc) http.Handler {
		return serve(log, h, &Error{Code: "internal_error", Message: "unexpected failure; the party's log has the details", Status: http.StatusInternalServerError},
			func(w http.ResponseWriter, e *Error) {
				status := e.Status
				if status == 0 {
					status = http.StatusBadRequest
				}
				body := map[string]string{"error": e.Code}
				if e.Message != "" {
					body["error_description"] = e.Message
				}
				WriteJSON(w, status, body)
			})
	}
}

// EncodeJSON writes v as JSON with the given status, or returns the marshalling error
// without writing anything, so the route logs it and answers in its own error form.
func EncodeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error_code":"`+CodeUnknownError+`"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// DecodeJSON reads a JSON request body into dst. It accepts Content-Type application/json,
// or none at all when the body parses (PROTOCOL §9.3); it reads at most MaxBodyBytes and
// wants exactly one JSON value. Failures come back as *Error with the given code (for
// example INVALID_REQUEST, or INVALID_USER_DATA at the miniapp) and a message saying what
// was wrong. Unknown keys are ignored (PROTOCOL §3.10: dropped, not an error).
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any, code string) error {
	return DecodeJSONCodes(w, r, dst, code, code)
}

// DecodeJSONCodes is DecodeJSON with two codes: parseCode when the body cannot be read as
// JSON at all, fieldCode when it is JSON of the wrong shape (a field of the wrong type).
func DecodeJSONCodes(w http.ResponseWriter, r *http.Request, dst any, parseCode, fieldCode string) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !isJSONSuffix(mt)) {
			return Errorf(parseCode, "Content-Type must be application/json, got %q", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return Errorf(parseCode, "request body is larger than %d bytes", MaxBodyBytes)
		}
		return Errorf(parseCode, "reading request body: %v", err)
	}
	if len(body) == 0 {
		return Errorf(parseCode, "request body is empty; a JSON object is expected")
	}
	if err := json.Unmarshal(body, dst); err != nil {
		code := parseCode
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			code = fieldCode
		}
		return Errorf(code, "request body is not valid JSON for this endpoint: %v", err)
	}
	return nil
}

func isJSONSuffix(mt string) bool {
	return len(mt) > 5 && mt[len(mt)-5:] == "+json"
}

// NotFound and MethodNotAllowed answer unknown routes in JSON, for mux.Router's
// NotFoundHandler and MethodNotAllowedHandler.
func NotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "no route for " + r.Method + " " + r.URL.Path})
	})
}

// MethodNotAllowed answers a known path called with the wrong method.
func MethodNotAllowed() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed", "error_description": r.Method + " is not allowed on " + r.URL.Path})
	})
}
