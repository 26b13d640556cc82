package hostapp_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// live is the host app behind a real listener, for clients that speak HTTP (x/oauth2,
// go-oidc, the demo page's own token call). The listener exists before New runs, so the
// issuer URL is known first (httptest.NewUnstartedServer).
type live struct {
	*env
	srv *httptest.Server
	url string
}

func newLive(t *testing.T, opts ...envOption) *live {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	db := openTestDB(t)
	if err := hostapp.SeedDemo(t.Context(), db, base); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(testStart)
	cfg := hostapp.Config{BaseURL: base, Store: db, Now: clk.Now, SigningKey: testKey(),
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	for _, o := range opts {
		o(&cfg)
	}
	h, err := hostapp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	return &live{env: &env{t: t, h: h, db: db, clk: clk, cfg: cfg}, srv: srv, url: base}
}

// ctx returns a context whose oauth2 and go-oidc calls use the test server's client.
func (l *live) ctx() context.Context {
	return context.WithValue(l.t.Context(), oauth2.HTTPClient, l.srv.Client())
}

// browser is a user agent with a cookie jar that stops at every redirect, so each hop is
// visible (STYLE.md "Tests").
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
}

func (l *live) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		l.t.Fatal(err)
	}
	return &browser{t: l.t, base: l.url, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// response is a finished response with its body read.
type response struct {
	status int
	header http.Header
	body   string
}

func (r response) location(t *testing.T) *url.URL {
	t.Helper()
	if r.status != http.StatusFound {
		t.Fatalf("status %d, want 302: %s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (b *browser) abs(u string) string {
	if strings.HasPrefix(u, "/") {
		return b.base + u
	}
	return u
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		b.t.Errorf("%s %s: %d %s", req.Method, req.URL, resp.StatusCode, body)
	}
	return response{resp.StatusCode, resp.Header, string(body)}
}

func (b *browser) get(u string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.abs(u), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.abs(u), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// signIn signs a demo user in.
func (b *browser) signIn(username string) {
	b.t.Helper()
	du, ok := demo.FindUser(username)
	if !ok {
		b.t.Fatalf("no demo user %s", username)
	}
	if r := b.post("/auth/v1/login", url.Values{"username": {du.Username}, "password": {du.Password}}); r.status != http.StatusFound {
		b.t.Fatalf("sign-in: %d %s", r.status, r.body)
	}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// consentForm returns the action and hidden fields of a consent page, ok=false when the
// page is not one.
func consentForm(page string) (action string, fields url.Values, ok bool) {
	m := regexp.MustCompile(`<form method="post" action="([^"]+)">`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, `value="allow"`) {
		return "", nil, false
	}
	fields = url.Values{}
	for _, h := range hiddenInput.FindAllStringSubmatch(page, -1) {
		fields.Add(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return html.UnescapeString(m[1]), fields, true
}

// decide answers the consent page in r with decision and returns the response.
func (b *browser) decide(r response, decision string) response {
	b.t.Helper()
	action, fields, ok := consentForm(r.body)
	if r.status != http.StatusOK || !ok {
		b.t.Fatalf("no consent page: %d %s", r.status, r.body)
	}
	fields.Set("decision", decision)
	return b.post(action, fields)
}

// authorize walks an authorization request as a signed-in user who allows when asked, and
// returns the final redirect to the client.
func (b *browser) authorize(u string) *url.URL {
	b.t.Helper()
	r := b.get(u)
	if r.status == http.StatusOK {
		r = b.decide(r, "allow")
	}
	return r.location(b.t)
}

// resultParams returns the parameters of a redirect to the client, from the fragment or
// the query, and says which. The query of the registered redirect URI stays in the query
// either way.
func resultParams(t *testing.T, u *url.URL) (url.Values, string) {
	t.Helper()
	if u.Fragment != "" {
		v, err := url.ParseQuery(u.EscapedFragment())
		if err != nil {
			t.Fatal(err)
		}
		return v, "fragment"
	}
	return u.Query(), "query"
}
