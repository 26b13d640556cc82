package contract

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// pieces of strings that json.Marshal writes in every way it has: plain, escaped, HTML,
// control bytes, invalid UTF-8, U+2028/U+2029, multi-byte.
var jsonPieces = []string{"a", "Z9", " ", "é", "日本", "😀", "<", ">", "&", `"`, `\`, "\n", "\t", "\x00", "\x1f", "\x7f",
	"\xff", "\xc3", "\u2028", "\u2029", "…[43]", "/", "'"}

var jsonFloats = []float64{0, math.Copysign(0, -1), 1, -1, 3600, 1.5, -0.25, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 123456789012345678,
	math.MaxFloat64, math.SmallestNonzeroFloat64, 0.1, 2.5e-5, -4e22}

func randString(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(6) {
		b.WriteString(jsonPieces[r.IntN(len(jsonPieces))])
	}
	return b.String()
}

func randJSONValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(7); {
	case k == 0:
		return nil
	case k == 1:
		return r.IntN(2) == 0
	case k == 2:
		if r.IntN(2) == 0 {
			return jsonFloats[r.IntN(len(jsonFloats))]
		}
		return (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(40)-15))
	case k == 3 || depth > 3:
		return randString(r)
	case k == 4:
		xs := []any{}
		for range r.IntN(4) {
			xs = append(xs, randJSONValue(r, depth+1))
		}
		return xs
	default:
		m := map[string]any{}
		for range r.IntN(5) {
			m[randString(r)] = randJSONValue(r, depth+1)
		}
		return m
	}
}

// TestEncodeExchangeMatchesMarshal: the same for the exchanges the flow log keeps, bodies
// with spaces and HTML characters included, and a body that is not JSON refused.
func TestEncodeExchangeMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		x := &Exchange{Headers: map[string]string{}}
		for range r.IntN(4) {
			x.Headers[randString(r)] = randString(r)
		}
		if r.IntN(3) > 0 {
			b, _ := json.MarshalIndent(randJSONValue(r, 0), "", "  ")
			if r.IntN(2) == 0 {
				b = bytes.ReplaceAll(b, []byte(`\u003c`), []byte(`<`))
			}
			x.Body = b
		}
		if r.IntN(3) == 0 {
			x.Text = randString(r)
		}
		want, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		got, err := EncodeExchange(x)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("exchange %d %+v:\n got %s (%v)\nwant %s", i, x, got, err, want)
		}
	}
	for _, x := range []*Exchange{nil, {}, {Body: json.RawMessage(` { "a" : "<b>\u2028" } `)}} {
		want, _ := json.Marshal(x)
		if got, err := EncodeExchange(x); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%+v: got %s (%v), want %s", x, got, err, want)
		}
	}
	if _, err := EncodeExchange(&Exchange{Body: json.RawMessage(`{"a":`)}); err == nil {
		t.Error("a body that is not JSON encoded")
	}
}
