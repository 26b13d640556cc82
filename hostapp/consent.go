package hostapp

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// Consent (PROTOCOL §6.2 step 6): a page listing the client's scopes with Allow and Deny.
// The page posts the original request back to the same endpoint with the decision and a
// CSRF token derived from the session cookie, so a forged cross-site post cannot consent.

// scopeDescription is what the consent page says about a scope.
func scopeDescription(scope string) string {
	switch scope {
	case "openid":
		return "Sign you in with your Demo Super App account"
	case "profile":
		return "Your name and username"
	case "email":
		return "Your e-mail address"
	case "phone":
		return "Your phone number"
	}
	return ""
}

// sameScopes reports whether a and b hold the same set of scopes.
func sameScopes(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	sort.Strings(x)
	sort.Strings(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// needsConsent reports whether u must be asked: not for a skip_consent client, nor when
// u granted exactly the client's current scopes before (changed scopes ask again).
func (s *server) needsConsent(ctx context.Context, u User, c Client) (bool, error) {
	if c.SkipConsent {
		return false, nil
	}
	con, err := s.Store.GetConsent(ctx, u.ID, c.ID)
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return !sameScopes(con.Scopes, c.Scopes), nil
}

// grantConsent records that u authorized c's current scopes.
func (s *server) grantConsent(ctx context.Context, u User, c Client) error {
	return s.Store.PutConsent(ctx, Consent{UserID: u.ID, ClientID: c.ID, Scopes: c.Scopes, GrantedAt: s.Now()})
}

// csrfToken derives the consent form's token from the session cookie value; "" without a
// session.
func csrfToken(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	return contract.Hash("consent-csrf:" + c.Value)
}

type hiddenField struct{ Name, Value string }

type scopeItem struct{ Name, Description string }

// consentPageData is the data of the consent template.
type consentPageData struct {
	Title, User, ClientName, ClientID, Action, CSRF string
	Scopes                                          []scopeItem
	Fields                                          []hiddenField
}

// consentPage shows the consent screen for c; its form posts params back to action.
func (s *server) consentPage(w http.ResponseWriter, r *http.Request, u User, c Client, action string, params url.Values) {
	d := consentPageData{Title: "Authorize " + c.Name, User: u.Username, ClientName: c.Name, ClientID: c.ID,
		Action: action, CSRF: csrfToken(r)}
	if d.ClientName == "" {
		d.ClientName, d.Title = c.ID, "Authorize "+c.ID
	}
	for _, sc := range c.Scopes {
		d.Scopes = append(d.Scopes, scopeItem{Name: sc, Description: scopeDescription(sc)})
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range params[k] {
			d.Fields = append(d.Fields, hiddenField{Name: k, Value: v})
		}
	}
	s.page(w, r, http.StatusOK, "consent", d)
}

// readDecision reads a consent form post: form encoding, a CSRF token matching the
// session, and the decision. It returns the original request parameters without those two.
// On failure it has answered with an error page (never a redirect: nothing is validated).
func (s *server) readDecision(w http.ResponseWriter, r *http.Request) (params url.Values, decision string, ok bool) {
	fail := func(status int, code, desc string) {
		s.page(w, r, status, "error", errorPage{Title: "Authorization error", Error: code, Description: desc})
	}
	if s.crossSite(w, r) {
		return nil, "", false
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		fail(http.StatusBadRequest, contract.OAuthInvalidRequest, "the consent form must be sent as application/x-www-form-urlencoded")
		return nil, "", false
	}
	r.Body = http.MaxBytesReader(w, r.Body, contract.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, contract.OAuthInvalidRequest, "the consent form could not be read")
		return nil, "", false
	}
	params = url.Values{}
	for k, vs := range r.PostForm {
		params[k] = slices.Clone(vs)
	}
	got, want := params.Get("csrf"), csrfToken(r)
	if want == "" || !contract.Equal(got, want) {
		fail(http.StatusForbidden, contract.OAuthAccessDenied, "the consent form is stale or was not sent from this site; start the sign-in again")
		return nil, "", false
	}
	decision = params.Get("decision")
	params.Del("csrf")
	params.Del("decision")
	return params, decision, true
}
