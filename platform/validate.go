package platform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// Limits of the registry's fields (PROTOCOL §1.2: ids are opaque strings of at most 64).
const (
	maxNameLen   = 200
	maxSecretLen = 1000
	maxURLLen    = 2000
	maxPrefixLen = 64
)

// Error codes of the simulator's own JSON routes (contract.Plain form).
const (
	plainInvalidRequest = "invalid_request"
	plainNotFound       = "not_found"
)

// Credential kinds of the Dashboard, for CheckCredential.
const (
	CredHostappClientID = "hostapp_client_id" // the user part of the Basic credential to the host
	CredSecret          = "secret"            // hostapp_secret_key or a miniapp secret_key
	CredTokenPrefix     = "token_prefix"
	CredAppID           = "app_id"
)

// CheckCredential applies the Dashboard's rule for a credential of the given kind to v, for
// configuration that reaches the registry other than through its admin routes (relay mode),
// so both are held to the same rules. The error's message starts with name.
func CheckCredential(kind, name, v string) error {
	var err error
	switch kind {
	case CredHostappClientID:
		err = checkBasicUser(name, v)
	case CredSecret:
		err = checkText(name, v, maxSecretLen)
	case CredTokenPrefix:
		err = checkPrefix(name, v)
	case CredAppID:
		err = checkID(name, v)
	default:
		return fmt.Errorf("platform: unknown credential kind %q", kind)
	}
	var ce *contract.Error
	if errors.As(err, &ce) {
		return errors.New(ce.Message) // "name: rule", without the admin route's error code
	}
	return err
}

func invalidField(field, format string, args ...any) *contract.Error {
	return &contract.Error{Code: plainInvalidRequest, Message: field + ": " + fmt.Sprintf(format, args...)}
}

func notFoundErr(format string, args ...any) *contract.Error {
	return &contract.Error{Code: plainNotFound, Message: fmt.Sprintf(format, args...), Status: http.StatusNotFound}
}

// checkID checks a client_id, app_id or flow id: 1 to 64 printable code points, no spaces
// and none of / ? # % : \ (ids travel in paths, and app_id is a Basic user name, §2.7).
func checkID(field, v string) error {
	if err := contract.CheckID(v); err != nil {
		return invalidField(field, "%v", err)
	}
	return nil
}

// checkText checks a required free-text value such as a name.
func checkText(field, v string, max int) error {
	if strings.TrimSpace(v) == "" {
		return invalidField(field, "must not be empty")
	}
	if contract.Len(v) > max {
		return invalidField(field, "is longer than %d characters", max)
	}
	for _, c := range v {
		if unicode.IsControl(c) {
			return invalidField(field, "must not contain control characters")
		}
	}
	return nil
}

// checkURL checks an absolute http(s) URL; optional allows "".
func checkURL(field, v string, optional bool) error {
	if v == "" {
		if optional {
			return nil
		}
		return invalidField(field, "is required")
	}
	if len(v) > maxURLLen {
		return invalidField(field, "is longer than %d bytes", maxURLLen)
	}
	u, err := url.Parse(v)
	if err != nil {
		return invalidField(field, "is not a valid URL")
	}
	if s := strings.ToLower(u.Scheme); (s != "http" && s != "https") || u.Host == "" || u.Opaque != "" {
		return invalidField(field, "must be an absolute http or https URL")
	}
	return nil
}

// checkPrefix checks an access token prefix: one HTTP token (RFC 9110 §5.6.2), no spaces.
func checkPrefix(field, v string) error {
	if v == "" {
		return invalidField(field, "must not be empty")
	}
	if len(v) > maxPrefixLen {
		return invalidField(field, "is longer than %d characters", maxPrefixLen)
	}
	for _, c := range v {
		if !isTchar(c) {
			return invalidField(field, "must be a single word without spaces (an HTTP auth scheme token)")
		}
	}
	return nil
}

func isTchar(c rune) bool {
	return c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.ContainsRune("!#$%&'*+-.^_`|~", c))
}

// checkBasicUser checks a value that becomes the user part of a Basic credential.
func checkBasicUser(field, v string) error {
	if err := checkText(field, v, maxSecretLen); err != nil {
		return err
	}
	if strings.Contains(v, ":") {
		return invalidField(field, "must not contain ':' (it is the user part of a Basic credential)")
	}
	return nil
}

// checkCIDRs checks an IP allowlist with the rule every party shares.
func checkCIDRs(field string, v []string) error {
	if err := contract.CheckAllowlist(v); err != nil {
		return invalidField(field, "%v", err)
	}
	return nil
}

// checkFields checks required_fields ⊂ contract.UserFields and returns them without
// duplicates, in the given order.
func checkFields(field string, v []string) ([]string, error) {
	out := make([]string, 0, len(v))
	for _, f := range v {
		if !contract.IsUserField(f) {
			return nil, invalidField(field, "%q is not one of %s", f, strings.Join(contract.UserFields, ", "))
		}
		dup := false
		for _, o := range out {
			dup = dup || o == f
		}
		if !dup {
			out = append(out, f)
		}
	}
	return out, nil
}

// decodeStrict reads a JSON object body into dst, refusing keys dst does not know so a
// misspelt setting fails loudly instead of being ignored.
func decodeStrict(w http.ResponseWriter, r *http.Request, dst any) error {
	var raw json.RawMessage
	if err := contract.DecodeJSON(w, r, &raw, plainInvalidRequest); err != nil {
		return err
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return &contract.Error{Code: plainInvalidRequest, Message: "request body must be a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return invalidField(te.Field, "must be of JSON type %s, not %s", jsonType(te.Type.Kind().String()), te.Value)
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return invalidField(strings.Trim(f, `"`), "is not a known key")
		}
		return &contract.Error{Code: plainInvalidRequest, Message: "request body: " + err.Error()}
	}
	return nil
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "ptr":
		return "value"
	}
	return kind
}
