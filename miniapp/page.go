package miniapp

import (
	"bytes"
	"html/template"
	"net/http"
)

// pageHTML is the miniapp frontend: the page the platform hands to the SDK as the miniapp
// URL (PROTOCOL §3.2). In a real web view the JS SDK stores the Connect token in the ab_token
// cookie (§4.5); the page then shows what /api/me says about the user (steps 14–15).
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Name}}</title>
</head>
<body>
<main>
<h1>{{.Name}}</h1>
<p>This is a miniapp simulated by boxo-sim. It has no passwords of its own: you sign in with
the host app. When the miniapp asks to log in, the host app shows a consent prompt; once you
allow it, Boxo Connect signs you in here with your host app account.</p>
<p id="status">Not signed in.</p>
<pre id="me"></pre>
</main>
<script>
(function () {
  var m = document.cookie.match(/(?:^|;\s*)ab_token=([^;]*)/);
  if (!m) { return; }
  fetch({{.MePath}}, {headers: {Authorization: "Bearer " + decodeURIComponent(m[1])}})
    .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, body: body}; }); })
    .then(function (res) {
      document.getElementById("status").textContent = res.ok ? "Signed in." : "The saved token was refused.";
      document.getElementById("me").textContent = JSON.stringify(res.body, null, 2);
    });
})();
</script>
</body>
</html>
`

// handlePage serves the miniapp frontend page at GET /.
func handlePage(c Config) http.Handler {
	tmpl := template.Must(template.New("page").Parse(pageHTML)) // a constant: fails in every test or never
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, struct{ Name, MePath string }{c.Name, "/api/me"}); err != nil {
			c.logger(r).ErrorContext(r.Context(), "render page", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = buf.WriteTo(w)
	})
}
