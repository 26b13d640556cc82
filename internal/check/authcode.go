package check

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"
	"unicode"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// AuthCodeCommandTimeout bounds one run of an auth code command (PROTOCOL §9.36: the SDK
// waits 30 s for the host app's code).
const AuthCodeCommandTimeout = 30 * time.Second

// CommandAuthCode returns an AuthCodeFunc that runs command with sh -c and takes its
// standard output, trimmed, as the code. A run is bounded by AuthCodeCommandTimeout (or the
// context's deadline, if sooner); a failure reports the exit status and standard error.
func CommandAuthCode(command string) AuthCodeFunc {
	return func(ctx context.Context) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, AuthCodeCommandTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", "-c", command)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.WaitDelay = time.Second // a child that keeps the pipes open cannot hold us
		err := cmd.Run()
		if ctx.Err() != nil {
			return "", fmt.Errorf("auth code command %q did not finish in time: %w%s", command, ctx.Err(), stderrText(stderr.Bytes()))
		}
		if err != nil {
			return "", fmt.Errorf("auth code command %q failed: %v%s", command, err, stderrText(stderr.Bytes()))
		}
		code, err := cleanCode(stdout.Bytes())
		if err != nil {
			return "", fmt.Errorf("auth code command %q: %w%s", command, err, stderrText(stderr.Bytes()))
		}
		return code, nil
	}
}

func stderrText(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return "; its standard error: " + s
}

// URLAuthCode returns an AuthCodeFunc that GETs u: the answer's body is the code as text,
// or JSON {"code": …} or {"auth_code": …}. Any status but 200 is an error. A nil client
// means one without redirects and with a 30 s timeout.
func URLAuthCode(u string, client *http.Client) AuthCodeFunc {
	if client == nil {
		client = &http.Client{Timeout: AuthCodeCommandTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return func(ctx context.Context) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return "", fmt.Errorf("auth code URL %q: %w", u, err)
		}
		req.Header.Set("Accept", "application/json, text/plain")
		resp, err := client.Do(req)
		if err != nil {
			return "", fmt.Errorf("auth code URL: %w", err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err != nil {
			return "", fmt.Errorf("auth code URL %s: reading the answer: %w", u, err)
		}
		if resp.StatusCode != http.StatusOK {
			what := "an empty body"
			if t := bytes.TrimSpace(body); len(t) > 0 {
				what = maskText(t)
			}
			return "", fmt.Errorf("auth code URL %s answered HTTP %d with %s", u, resp.StatusCode, what)
		}
		if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
			var v struct {
				Code     string `json:"code"`
				AuthCode string `json:"auth_code"`
			}
			if err := json.Unmarshal(t, &v); err != nil {
				return "", fmt.Errorf("auth code URL %s answered JSON that is not {\"code\"} or {\"auth_code\"}: %v", u, err)
			}
			body = []byte(or(v.AuthCode, v.Code))
		}
		code, err := cleanCode(body)
		if err != nil {
			return "", fmt.Errorf("auth code URL %s: %w", u, err)
		}
		return code, nil
	}
}

// cleanCode trims a code and checks it is one printable token of at most 1000 characters
// (the platform refuses longer ones, PROTOCOL §3.6).
func cleanCode(b []byte) (string, error) {
	code := strings.TrimSpace(string(b))
	switch {
	case code == "":
		return "", errors.New("it gave no code (empty output)")
	case contract.Len(code) > contract.MaxTokenLen:
		return "", fmt.Errorf("its code is %d characters; the platform accepts at most %d", contract.Len(code), contract.MaxTokenLen)
	case strings.IndexFunc(code, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0:
		return "", errors.New("its output is not a single code: it holds spaces, line breaks or control characters")
	}
	return code, nil
}
