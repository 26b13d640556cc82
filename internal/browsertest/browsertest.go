// Package browsertest starts a real headless Chromium for tests of the parties' pages.
//
// A machine without Chromium skips those tests with a message saying how to install it; in CI
// (CI=true) a missing browser fails them instead, so a pipeline can never pass by skipping.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Candidates are the executables tried, in order, when BOXO_SIM_CHROMIUM is not set.
var Candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the path of a Chromium executable, or "" when there is none.
func Find() string {
	if p := os.Getenv("BOXO_SIM_CHROMIUM"); p != "" {
		return p
	}
	for _, c := range Candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}

// Timeout bounds one test's use of the browser, so a page that never settles fails the test
// instead of hanging the suite.
const Timeout = 60 * time.Second

// New starts a headless Chromium with a fresh profile and returns a tab's context, closed at
// the end of the test. Without a browser it skips (fails when CI=true). extra adds to the
// browser's options.
func New(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := Find()
	if path == "" {
		msg := "browser tests need Chromium: install it (Debian: apt-get install chromium) or set BOXO_SIM_CHROMIUM to its path"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// The profile is not a t.TempDir: Chromium's helper processes may still write to it for a
	// moment after the browser exits, which would fail the test in TempDir's cleanup.
	profile, err := os.MkdirTemp("", "boxo-sim-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, Timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
		for range 20 { // best effort, see profile above
			if os.RemoveAll(profile) == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	if err := chromedp.Run(ctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// InProcessFrames keeps cross-site iframes in the page's process (no site isolation), so a
// test can read an embedded page with chromedp.FromNode. Cookies and storage are still kept
// per site, as in a default browser.
var InProcessFrames = []chromedp.ExecAllocatorOption{
	chromedp.Flag("disable-site-isolation-trials", true),
	chromedp.Flag("disable-features", "IsolateOrigins,site-per-process"),
}

// Screenshot saves a PNG of the whole page to path (directories created), for a person to look
// at; tests call it where a picture helps read a failure.
func Screenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot: %v", err)
	}
}
