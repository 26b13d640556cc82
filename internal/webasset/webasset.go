// Package webasset writes the embedded files of the parties' pages: scripts, styles and the
// vendored SDKs, each with the content type a browser needs to run it.
package webasset

import (
	"bytes"
	"mime"
	"net/http"
	"path"
	"time"
)

// Serve writes b, the embedded file name, with its content type, no-cache (the binary is the
// version) and nosniff; ranges and HEAD as http.ServeContent answers them.
func Serve(w http.ResponseWriter, r *http.Request, name string, b []byte) {
	ct := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".css":
		ct = "text/css; charset=utf-8"
	case "", ".md":
		ct = "text/plain; charset=utf-8"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}
