package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// The flow log encodes every exchange it keeps: MaskJSON's decoded tree and the Exchange
// around it. The functions below write exactly what json.Marshal writes for those values
// (keys sorted, HTML characters escaped, numbers in ES6 form) without its reflection, and
// hand json.Marshal the rare string or number they do not write the same way themselves.

// appendJSONValue appends v, a tree as json.Unmarshal decodes into an any, as json.Marshal
// would encode it.
func appendJSONValue(dst []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, t), nil
	case string:
		return appendJSONString(dst, t), nil
	case float64:
		return appendJSONFloat(dst, t)
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = appendJSONValue(dst, t[k]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case []any:
		dst = append(dst, '[')
		for i, x := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSONValue(dst, x); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	}
	b, err := json.Marshal(v)
	return append(dst, b...), err
}

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

// appendJSONFloat appends f as json.Marshal writes a float64: plain decimal between 1e-6
// and 1e21 (and 0), exponent form, left to json.Marshal, outside.
func appendJSONFloat(dst []byte, f float64) ([]byte, error) {
	if abs := math.Abs(f); abs == 0 || abs >= 1e-6 && abs < 1e21 {
		return strconv.AppendFloat(dst, f, 'f', -1, 64), nil
	}
	b, err := json.Marshal(f)
	return append(dst, b...), err
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
