package hostapp

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// loginPage is the data of the sign-in template.
type loginPage struct {
	Title, Error, Note, Username, ReturnTo string
}

// currentUser returns the signed-in user of the request, ok=false when there is none (no
// cookie, unknown or expired session, user deleted since). err is a store failure.
func (s *server) currentUser(r *http.Request) (u User, ok bool, err error) {
	u, _, ok, err = s.currentSession(r)
	return u, ok, err
}

// currentSession is currentUser with the session, whose CreatedAt is the time of the
// sign-in (OIDC auth_time).
func (s *server) currentSession(r *http.Request) (u User, sess Session, ok bool, err error) {
	c, cerr := r.Cookie(SessionCookie)
	if cerr != nil || c.Value == "" || len(c.Value) > 256 {
		return User{}, Session{}, false, nil
	}
	sess, err = s.Store.GetSession(r.Context(), contract.Hash(c.Value))
	if errors.Is(err, ErrNotFound) {
		return User{}, Session{}, false, nil
	}
	if err != nil {
		return User{}, Session{}, false, err
	}
	if !s.Now().Before(sess.ExpiresAt) {
		return User{}, Session{}, false, nil
	}
	u, err = s.Store.GetUserByID(r.Context(), sess.UserID)
	if errors.Is(err, ErrNotFound) {
		return User{}, Session{}, false, nil
	}
	if err != nil {
		return User{}, Session{}, false, err
	}
	return u, sess, true, nil
}

// endSession deletes the request's session, if any, and clears its cookie.
func (s *server) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if err := s.Store.DeleteSession(r.Context(), contract.Hash(c.Value)); err != nil {
			s.log(r).ErrorContext(r.Context(), "end session", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.baseURL.Scheme == "https"})
}

// crossSite refuses a state-changing form post that a browser sent from another origin
// (login CSRF, forced sign-out): Sec-Fetch-Site other than same-origin or none, or else an
// Origin whose host differs from Host (net/http.CrossOriginProtection). Requests with
// neither header come from no browser, or one too old to send them, and are accepted. It
// answers 403 with an error page and reports true when it refused.
func (s *server) crossSite(w http.ResponseWriter, r *http.Request) bool {
	if err := http.NewCrossOriginProtection().Check(r); err != nil {
		s.log(r).DebugContext(r.Context(), "cross-site form post refused", "path", r.URL.Path,
			"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		s.page(w, r, http.StatusForbidden, "error", errorPage{Title: "Request refused", Error: "cross_site_request",
			Description: "this form was posted from another site; open the page on this site and try again",
			Note:        "Nothing was changed: you are signed in (or out) as before."})
		return true
	}
	return false
}

// safeReturnTo accepts only a relative reference to a path on this host (an absolute path
// without scheme, host or backslashes); anything else becomes "/".
func safeReturnTo(v string) string {
	if v == "" || v[0] != '/' || strings.HasPrefix(v, "//") || strings.ContainsAny(v, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return v
}

// handleLoginPage serves GET /auth/v1/login: the sign-in form.
func handleLoginPage(s *server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := loginPage{Title: "Sign in", ReturnTo: safeReturnTo(r.URL.Query().Get("return_to"))}
		if r.URL.Query().Get("again") == "1" {
			p.Note = "The application asks you to sign in again."
		}
		s.page(w, r, http.StatusOK, "login", p)
	}
}

// handleLogin serves POST /auth/v1/login (PROTOCOL §9.31): on success it sets the
// host_session cookie and redirects to return_to; on failure it answers 401 with the form
// and an error message.
func handleLogin(s *server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fail := func(status int, msg, username, returnTo string) {
			s.page(w, r, status, "login", loginPage{Title: "Sign in", Error: msg, Username: username, ReturnTo: returnTo})
		}
		if s.crossSite(w, r) {
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
			fail(http.StatusBadRequest, "The sign-in form must be sent as application/x-www-form-urlencoded.", "", "/")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, contract.MaxBodyBytes)
		if err := r.ParseForm(); err != nil {
			fail(http.StatusBadRequest, "The sign-in form could not be read.", "", "/")
			return
		}
		username, password := r.PostForm.Get("username"), r.PostForm.Get("password")
		returnTo := safeReturnTo(r.PostForm.Get("return_to"))
		u, err := s.Store.GetUser(r.Context(), username)
		if err != nil && !errors.Is(err, ErrNotFound) {
			s.log(r).ErrorContext(r.Context(), "sign-in: get user", "err", err)
			fail(http.StatusInternalServerError, "Signing in failed; try again.", username, returnTo)
			return
		}
		stored := u.PasswordHash
		if err != nil || stored == "" {
			stored = dummyPasswordHash // same cost for unknown users
		}
		if !checkPassword(stored, password) || err != nil || u.PasswordHash == "" {
			s.log(r).DebugContext(r.Context(), "sign-in failed", "username", username)
			fail(http.StatusUnauthorized, "Wrong username or password.", username, returnTo)
			return
		}
		if err := s.startSession(w, r, u); err != nil {
			s.log(r).ErrorContext(r.Context(), "sign-in: create session", "err", err)
			fail(http.StatusInternalServerError, "Signing in failed; try again.", username, returnTo)
			return
		}
		s.log(r).DebugContext(r.Context(), "signed in", "username", username)
		http.Redirect(w, r, returnTo, http.StatusFound)
	}
}

// startSession stores a new session for u and sets its cookie.
func (s *server) startSession(w http.ResponseWriter, r *http.Request, u User) error {
	token := contract.RandomToken()
	now := s.Now()
	err := s.Store.CreateSession(r.Context(), Session{Hash: contract.Hash(token), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.SessionTTL)})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", MaxAge: int(s.SessionTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.baseURL.Scheme == "https",
	})
	return nil
}

// handleLogout serves POST /auth/v1/logout: ends the session and redirects to "/".
func handleLogout(s *server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.crossSite(w, r) {
			return
		}
		s.endSession(w, r)
		http.Redirect(w, r, "/", http.StatusFound)
	}
}
