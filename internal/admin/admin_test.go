package admin

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func tcp(s string) net.Addr { a, _ := net.ResolveTCPAddr("tcp", s); return a }

func TestCheck(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	loop := NewGuard(token, tcp("127.0.0.1:8082"), nil)
	loop6 := NewGuard("", tcp("[::1]:8082"), nil)
	any := NewGuard(token, tcp("0.0.0.0:8082"), nil)
	lan := NewGuard(token, tcp("192.168.1.5:8082"), nil)
	noToken := NewGuard("", tcp("0.0.0.0:8082"), nil)
	req := func(method, host, remote string, header ...string) *http.Request {
		r := httptest.NewRequest(method, "http://"+host+"/_sim/faults", nil)
		r.Host, r.RemoteAddr = host, remote
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		return r
	}
	bearer := "Bearer " + token
	cases := []struct {
		name   string
		g      *Guard
		r      *http.Request
		status int // 0: admitted
	}{
		{"loopback", loop, req("GET", "127.0.0.1:8082", "127.0.0.1:5000"), 0},
		{"loopback, localhost", loop, req("GET", "localhost:8082", "127.0.0.1:5000"), 0},
		{"loopback, localhost.", loop, req("GET", "LOCALHOST.:8082", "127.0.0.1:5000"), 0},
		{"loopback v6", loop6, req("GET", "[::1]:8082", "[::1]:5000"), 0},
		{"loopback, mapped remote", loop, req("GET", "127.0.0.1:8082", "[::ffff:127.0.0.1]:5000"), 0},
		{"loopback, wrong token ignored", loop, req("GET", "127.0.0.1:8082", "127.0.0.1:5000", "Authorization", "Bearer nope"), 0},
		{"rebinding", loop, req("GET", "evil.example:8082", "127.0.0.1:5000"), 403},
		{"rebinding to a LAN name", loop, req("GET", "192.168.1.5:8082", "127.0.0.1:5000"), 403},
		{"every interface, loopback caller, no token", any, req("GET", "127.0.0.1:8082", "127.0.0.1:5000"), 401},
		{"every interface, remote, no token", any, req("GET", "192.168.1.5:8082", "192.168.1.9:5000"), 401},
		{"every interface, remote, token", any, req("GET", "192.168.1.5:8082", "192.168.1.9:5000", "Authorization", bearer), 0},
		{"every interface, remote, token, lower-case scheme", any, req("GET", "box:8082", "192.168.1.9:5000", "Authorization", "bearer "+token), 0},
		{"every interface, remote, wrong token", any, req("GET", "192.168.1.5:8082", "192.168.1.9:5000", "Authorization", "Bearer "+token[:31]), 401},
		{"every interface, token as Basic", any, req("GET", "192.168.1.5:8082", "192.168.1.9:5000", "Authorization", "Basic "+token), 401},
		{"LAN bound, its own address", lan, req("GET", "192.168.1.5:8082", "192.168.1.9:5000", "Authorization", bearer), 0},
		{"no token configured", noToken, req("GET", "127.0.0.1:8082", "127.0.0.1:5000", "Authorization", "Bearer "), 401},
		{"cross-site delete", loop, req("DELETE", "127.0.0.1:8082", "127.0.0.1:5000", "Sec-Fetch-Site", "cross-site"), 403},
		{"same-site delete", loop, req("DELETE", "127.0.0.1:8082", "127.0.0.1:5000", "Sec-Fetch-Site", "same-origin"), 0},
		{"null origin", loop, req("DELETE", "127.0.0.1:8082", "127.0.0.1:5000", "Origin", "null"), 403},
		{"foreign origin with token", any, req("DELETE", "127.0.0.1:8082", "127.0.0.1:5000", "Authorization", bearer, "Origin", "http://evil.example"), 403},
		{"own origin", loop, req("DELETE", "127.0.0.1:8082", "127.0.0.1:5000", "Origin", "http://127.0.0.1:8082"), 0},
		{"form", loop, req("POST", "127.0.0.1:8082", "127.0.0.1:5000", "Content-Type", "application/x-www-form-urlencoded"), 415},
		{"multipart", loop, req("PUT", "127.0.0.1:8082", "127.0.0.1:5000", "Content-Type", "multipart/form-data; boundary=x"), 415},
		{"json", loop, req("PUT", "127.0.0.1:8082", "127.0.0.1:5000", "Content-Type", "application/json; charset=utf-8"), 0},
		{"GET with a foreign origin is a read", loop, req("GET", "127.0.0.1:8082", "127.0.0.1:5000", "Origin", "http://evil.example"), 0},
	}
	for _, tc := range cases {
		e := tc.g.Check(tc.r)
		switch {
		case tc.status == 0 && e != nil:
			t.Errorf("%s: refused %d %s", tc.name, e.Status, e.Message)
		case tc.status != 0 && (e == nil || e.Status != tc.status):
			t.Errorf("%s: %v, want %d", tc.name, e, tc.status)
		case e != nil && strings.Contains(e.Message, token):
			t.Errorf("%s: the refusal shows the token", tc.name)
		}
	}
	// A body without a declared type.
	r := httptest.NewRequest("POST", "http://127.0.0.1:8082/_sim/clock", strings.NewReader("{}"))
	r.Host, r.RemoteAddr = "127.0.0.1:8082", "127.0.0.1:5000"
	if e := loop.Check(r); e == nil || e.Status != 415 {
		t.Errorf("untyped body: %v, want 415", e)
	}
}

func TestWrapOnlyGuardsWhatItIsTold(t *testing.T) {
	g := NewGuard("", tcp("0.0.0.0:8082"), nil)
	h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }), func(r *http.Request) bool { return IsSimPath(r.URL.Path) })
	for path, want := range map[string]int{"/_sim/faults": 401, "/_sim": 401, "/api/v1/authorize/": 204, "/_simulate": 204} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "http://127.0.0.1:8082"+path, nil)
		h.ServeHTTP(rec, r)
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", path, rec.Code, want)
		}
		if want == 401 && !strings.Contains(rec.Header().Get("Www-Authenticate"), "Bearer") {
			t.Errorf("%s: no WWW-Authenticate: Bearer", path)
		}
	}
}

func TestTransportSendsTheTokenToSimRoutesOnly(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Path+"="+r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	c := &http.Client{Transport: Transport(nil, "tok")}
	for _, p := range []string{"/_sim/flows", "/boxo/connect/access-token", "/api/me"} {
		resp, err := c.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	req, _ := http.NewRequest("GET", srv.URL+"/_sim/users", nil)
	req.Header.Set("Authorization", "Bearer other")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := []string{"/_sim/flows=Bearer tok", "/boxo/connect/access-token=", "/api/me=", "/_sim/users=Bearer other"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %q, want %q", got, want)
	}
}
