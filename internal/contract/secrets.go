package contract

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RandomHex returns n random bytes from crypto/rand as lowercase hex (PROTOCOL §6.4: auth
// codes are 20 bytes; §6.9: state is 16 bytes).
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// RandomToken returns an opaque token: 32 random bytes, base64url without padding, 43
// characters (PROTOCOL §6.10, §9.13).
func RandomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewFlowID returns a fresh flow id for X-Sim-Flow-Id.
func NewFlowID() string { return "flow_" + RandomHex(8) }

// ValidFlowID reports whether id can name a flow: 1–64 characters of [A-Za-z0-9_.:~@+=-],
// other than "latest" and "events" (the newest flow and the change stream in the flow log's
// routes).
func ValidFlowID(id string) bool {
	if id == "" || len(id) > 64 || id == "latest" || id == "events" {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_.:~@+=-", c)) {
			return false
		}
	}
	return true
}

// Hash returns the lowercase hex SHA-256 of a token or code, the form in which parties store
// and look them up.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Equal compares two secrets in constant time; it reveals neither content nor length.
func Equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// Mask shows enough of a secret to tell two apart in a log and no more: its first four
// characters and its length ("abcd…[43]"). Short values are hidden entirely.
func Mask(s string) string {
	if s == "" {
		return ""
	}
	n := Len(s)
	if n < 12 {
		return "…[" + strconv.Itoa(n) + "]"
	}
	// The first four code points; an invalid byte among them shows as U+FFFD, as a []rune
	// conversion would make it.
	head, i := make([]byte, 0, 16), 0
	for range 4 {
		r, size := utf8.DecodeRuneInString(s[i:])
		head = utf8.AppendRune(head, r)
		i += size
	}
	return string(head) + "…[" + strconv.Itoa(n) + "]"
}

// maskedRE is what Mask (and userdata.Mask) prints: up to four characters of any kind, then
// the length.
var maskedRE = regexp.MustCompile(`^(?s:.{0,4})…\[\d+\]$`)

// IsMasked reports whether v is a secret as Mask shows it, not a secret.
func IsMasked(v string) bool { return maskedRE.MatchString(v) }

// Secret is a string that logs and prints masked.
type Secret string

// LogValue masks the secret in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Mask(string(s))) }

// String masks the secret in fmt output.
func (s Secret) String() string { return Mask(string(s)) }

// BasicCredential returns base64(user ":" pass) in the standard alphabet with padding
// (PROTOCOL §2.7), without a scheme word.
func BasicCredential(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// SchemeCredential splits an Authorization header value into its credential when its
// scheme word equals scheme case-insensitively (PROTOCOL §2.7, §9.5). ok is false when the
// header is empty, has another scheme or no credential.
func SchemeCredential(header, scheme string) (credential string, ok bool) {
	word, rest, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(word, scheme) {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	return rest, rest != ""
}

// DecodeBasic decodes a base64(user ":" pass) credential.
func DecodeBasic(credential string) (user, pass string, ok bool) {
	b, err := base64.StdEncoding.DecodeString(credential)
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(b), ":")
}

// MaskHeaders copies the headers worth showing in a flow log, with credentials masked.
func MaskHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		if len(vs) == 0 {
			continue
		}
		v := vs[0]
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Cookie", "Set-Cookie":
			if word, cred, ok := strings.Cut(v, " "); ok {
				v = word + " " + Mask(cred)
			} else {
				v = Mask(v)
			}
		case "User-Agent", "Accept-Encoding", "Content-Length", "Date":
			continue
		}
		out[k] = v
	}
	return out
}

// SecretKeys are the JSON keys whose values MaskJSON hides.
var SecretKeys = map[string]bool{
	"auth_code": true, "access_token": true, "refresh_token": true, "auth_token": true,
	"token": true, "id_token": true, "code": true, "secret": true, "secret_key": true,
	"hostapp_secret_key": true, "signing_secret": true, "client_secret": true, "password": true, "application_secret": true,
	"nonce": true, "payload": true,
	"user_data": true, // only its encrypted form, a string (PROTOCOL §7.2); the object is shown
}

// IPFilter is an allowlist of networks (PROTOCOL §7.6). The zero value allows nothing;
// DefaultAllowlist allows loopback only.
type IPFilter struct{ prefixes []netip.Prefix }

// DefaultAllowlist is PROTOCOL §7.6's default: IPv4 and IPv6 loopback.
var DefaultAllowlist = []string{"127.0.0.0/8", "::1/128"}

// ParseIPFilter parses CIDRs (a bare address means just that address).
func ParseIPFilter(cidrs []string) (IPFilter, error) {
	f := IPFilter{prefixes: make([]netip.Prefix, 0, len(cidrs))} // parsed on every guarded call
	for _, c := range cidrs {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !strings.Contains(c, "/") {
			a, err := netip.ParseAddr(c)
			if err != nil {
				return IPFilter{}, fmt.Errorf("allowlist entry %q is neither a CIDR nor an IP address", c)
			}
			f.prefixes = append(f.prefixes, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return IPFilter{}, fmt.Errorf("allowlist entry %q is not a valid CIDR: %v", c, err)
		}
		f.prefixes = append(f.prefixes, p.Masked())
	}
	return f, nil
}

// Allows reports whether the request's peer address (RemoteAddr, never X-Forwarded-For) is
// in the list.
func (f IPFilter) Allows(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range f.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// MaskJSON returns body, compacted, with the string value of every SecretKeys key masked,
// at any depth; everything else is kept as sent (key order, numbers, escapes). A body that
// is not JSON comes back as ok=false.
func MaskJSON(body []byte) (masked []byte, ok bool) {
	var compact bytes.Buffer
	compact.Grow(len(body))
	if err := json.Compact(&compact, body); err != nil {
		return nil, false
	}
	src := compact.Bytes()
	out := make([]byte, 0, len(src)+16)
	var objects []bool // the open containers, innermost last: true for an object
	wantKey, secret := false, false
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '{', '[':
			objects = append(objects, c == '{')
			wantKey, secret = c == '{', false
			out = append(out, c)
			i++
		case '}', ']':
			objects = objects[:len(objects)-1]
			wantKey, secret = false, false
			out = append(out, c)
			i++
		case ',':
			wantKey = objects[len(objects)-1]
			out = append(out, c)
			i++
		case ':':
			out = append(out, c)
			i++
		case '"':
			j := stringEnd(src, i)
			tok := src[i:j]
			switch {
			case wantKey:
				if bytes.IndexByte(tok, '\\') < 0 {
					secret = SecretKeys[string(tok[1:len(tok)-1])] // no copy for a lookup
				} else {
					secret = SecretKeys[jsonString(tok)]
				}
				wantKey = false
				out = append(out, tok...)
			case secret:
				out = appendJSONString(out, Mask(jsonString(tok)))
				secret = false
			default:
				out = append(out, tok...)
			}
			i = j
		default: // a number, true, false or null
			j := i
			for j < len(src) && src[j] != ',' && src[j] != '}' && src[j] != ']' {
				j++
			}
			out = append(out, src[i:j]...)
			secret = false
			i = j
		}
	}
	return out, true
}

// stringEnd is the index just past the JSON string starting at src[i] (a '"') in valid JSON.
func stringEnd(src []byte, i int) int {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(src)
}

// jsonString is the value of the JSON string token tok, from valid JSON.
func jsonString(tok []byte) string {
	if bytes.IndexByte(tok, '\\') < 0 {
		return string(tok[1 : len(tok)-1])
	}
	var s string
	_ = json.Unmarshal(tok, &s)
	return s
}
