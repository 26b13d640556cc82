package contract_test

import (
	"net/http/httptest"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

func TestClientAddr(t *testing.T) {
	proxies, err := contract.ParseIPFilter([]string{"10.0.0.0/8", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, remote string
		xff          []string
		trusted      contract.IPFilter
		want         string
	}{
		{"no trusted proxies: the header is ignored", "203.0.113.5:4000", []string{"127.0.0.1"}, contract.IPFilter{}, "203.0.113.5:4000"},
		{"untrusted peer: the header is ignored", "203.0.113.5:4000", []string{"127.0.0.1"}, proxies, "203.0.113.5:4000"},
		{"trusted peer, no header", "10.1.1.1:4000", nil, proxies, "10.1.1.1:4000"},
		{"trusted peer: the client before it", "10.1.1.1:4000", []string{"198.51.100.7"}, proxies, "198.51.100.7:0"},
		{"spoofed left entries are not read", "10.1.1.1:4000", []string{"127.0.0.1, 198.51.100.7"}, proxies, "198.51.100.7:0"},
		{"two trusted hops", "10.1.1.1:4000", []string{"198.51.100.7, 10.2.2.2"}, proxies, "198.51.100.7:0"},
		{"two headers as one list", "10.1.1.1:4000", []string{"198.51.100.7", "10.2.2.2"}, proxies, "198.51.100.7:0"},
		{"IPv6 client", "[fd00::1]:4000", []string{"2001:db8::9"}, proxies, "[2001:db8::9]:0"},
		{"garbage entry", "10.1.1.1:4000", []string{"not-an-ip"}, proxies, ""},
		{"only trusted hops", "10.1.1.1:4000", []string{"10.3.3.3"}, proxies, "10.3.3.3:0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			for _, h := range c.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := contract.ClientAddr(r, c.trusted); got != c.want {
				t.Fatalf("ClientAddr = %q, want %q", got, c.want)
			}
		})
	}
	loop, _ := contract.ParseIPFilter(contract.DefaultAllowlist)
	if loop.Allows("") {
		t.Fatal(`the filter allows ""`)
	}
}
