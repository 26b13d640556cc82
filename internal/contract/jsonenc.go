package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"
)

// The flow log encodes every exchange it keeps. The functions below write exactly what
// json.Marshal writes for an Exchange (keys sorted, HTML characters escaped) without its
// reflection, and hand json.Marshal the rare string they do not write the same way
// themselves.

// appendJSONString appends s quoted as json.Marshal quotes it. A string needing more than
// the quotes (an escape, an invalid byte, U+2028 or U+2029) is left to json.Marshal.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return appendMarshaled(dst, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return appendMarshaled(dst, s)
		}
		i += size
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

func appendMarshaled(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always encodes
	return append(dst, b...)
}

// EncodeExchange is json.Marshal(x) for the flow log, without reflection.
func EncodeExchange(x *Exchange) ([]byte, error) {
	if x == nil {
		return []byte("null"), nil
	}
	dst := make([]byte, 0, 64+len(x.Body)+len(x.Text))
	dst = append(dst, '{')
	if len(x.Headers) > 0 {
		dst = append(dst, `"headers":{`...)
		keys := make([]string, 0, len(x.Headers))
		for k := range x.Headers {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			dst = appendJSONString(dst, x.Headers[k])
		}
		dst = append(dst, '}')
	}
	if len(x.Body) > 0 {
		if len(dst) > 1 {
			dst = append(dst, ',')
		}
		dst = append(dst, `"body":`...)
		// json.Marshal checks a RawMessage, compacts it and escapes its HTML characters.
		start := len(dst)
		buf := bytes.NewBuffer(dst)
		if err := json.Compact(buf, x.Body); err != nil {
			return nil, fmt.Errorf("encode exchange body: %w", err)
		}
		dst = buf.Bytes()
		if body := dst[start:]; bytes.ContainsAny(body, "<>&\u2028\u2029") {
			var esc bytes.Buffer
			json.HTMLEscape(&esc, body)
			dst = append(dst[:start], esc.Bytes()...)
		}
	}
	if x.Text != "" {
		if len(dst) > 1 {
			dst = append(dst, ',')
		}
		dst = append(dst, `"text":`...)
		dst = appendJSONString(dst, x.Text)
	}
	return append(dst, '}'), nil
}
