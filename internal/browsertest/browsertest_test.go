package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserRunsScript proves the harness drives a real browser: the page's own script
// writes the text the test reads back.
func TestBrowserRunsScript(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><p id="out">waiting</p><script>document.getElementById("out").textContent = "ran " + (6*7)</script>`)
	}))
	defer srv.Close()
	ctx := New(t)
	var got string
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL), chromedp.Text("#out", &got, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if got != "ran 42" {
		t.Fatalf("page text %q, want %q", got, "ran 42")
	}
}
