package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// PROTOCOL §7.2's test vector.
const (
	vectorKey   = "u9Qd9wV0Z6Ho9_TzCYyVW_WwBJwL7KvSl4k8fmfaLyE="
	vectorIV    = "000102030405060708090a0b0c0d0e0f"
	vectorPlain = `{"reference":"u-42","email":"user@example.com"}`
	vectorStd   = "AAECAwQFBgcICQoLDA0OD2i86XmGKp2dXGjLJmYwvzum4nyE4LSBhRmhGpnVRQVRqcZKtdklxDdAl/6UaEg1Dw=="
	vectorURL   = "AAECAwQFBgcICQoLDA0OD2i86XmGKp2dXGjLJmYwvzum4nyE4LSBhRmhGpnVRQVRqcZKtdklxDdAl_6UaEg1Dw=="
)

func TestUserdataVector(t *testing.T) {
	t.Parallel()
	out, errOut, code := runCmd(t, t.Context(), nil, "userdata", "encrypt", "--user-data-key", vectorKey, "--iv", vectorIV, vectorPlain)
	if code != 0 || out != vectorStd+"\n" {
		t.Fatalf("encrypt: exit %d, stdout %q, stderr %q; want %s", code, out, errOut, vectorStd)
	}
	for _, ct := range []string{vectorStd, vectorURL, strings.TrimRight(vectorURL, "=")} {
		out, errOut, code := runCmd(t, t.Context(), nil, "userdata", "decrypt", "--user-data-key", vectorKey, ct)
		if code != 0 || out != vectorPlain+"\n" {
			t.Errorf("decrypt %s: exit %d, stdout %q, stderr %q", ct, code, out, errOut)
		}
	}
	// The key from the environment, the ciphertext from stdin.
	env := map[string]string{"BOXO_SIM_USER_DATA_KEY": vectorKey}
	var out2, err2 strings.Builder
	root := newRootCmd(env2{env}.env(&out2, &err2))
	root.SetIn(strings.NewReader(vectorURL + "\n"))
	root.SetArgs([]string{"userdata", "decrypt"})
	if err := root.ExecuteContext(t.Context()); err != nil || out2.String() != vectorPlain+"\n" {
		t.Fatalf("decrypt from stdin with the env key: %v, stdout %q, stderr %q", err, out2.String(), err2.String())
	}
	// A random IV: a different ciphertext each time, which decrypts back.
	a, _, _ := runCmd(t, t.Context(), env, "userdata", "encrypt", vectorPlain)
	b, _, _ := runCmd(t, t.Context(), env, "userdata", "encrypt", vectorPlain)
	if a == b || a == vectorStd+"\n" {
		t.Fatalf("two encryptions gave %q and %q: the IV is not random", a, b)
	}
	if out, _, code := runCmd(t, t.Context(), env, "userdata", "decrypt", strings.TrimSpace(a)); code != 0 || out != vectorPlain+"\n" {
		t.Fatalf("round trip: exit %d, %q", code, out)
	}
}

func TestUserdataErrors(t *testing.T) {
	t.Parallel()
	other := "3q2-7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs="
	for _, c := range []struct {
		args []string
		env  map[string]string
		code int
		want string
	}{
		{[]string{"userdata", "decrypt", "--user-data-key", other, vectorStd}, nil, 1, "INVALID_USER_DATA: invalid PKCS#7 padding"},
		{[]string{"userdata", "decrypt", "--user-data-key", vectorKey, "AAECAwQFBgcICQoLDA0ODw=="}, nil, 1, "INVALID_USER_DATA: shorter than 32 bytes"},
		{[]string{"userdata", "decrypt", "--user-data-key", vectorKey, vectorStd[:len(vectorStd)-8]}, nil, 1, "INVALID_USER_DATA: the ciphertext after the 16-byte IV is not a multiple of 16"},
		{[]string{"userdata", "decrypt", "--user-data-key", vectorKey, "*not base64*"}, nil, 1, "INVALID_USER_DATA: not base64"},
		{[]string{"userdata", "decrypt", vectorStd}, nil, 2, "no key: give --user-data-key, or set user_data_key"},
		{[]string{"userdata", "decrypt", "--user-data-key", "abc", vectorStd}, nil, 2, "--user-data-key: the key must be 32 bytes"},
		{[]string{"userdata", "decrypt", vectorStd}, map[string]string{"BOXO_SIM_USER_DATA_KEY": "abc"}, 2, "user_data_key: the key must be 32 bytes"},
		{[]string{"userdata", "encrypt", "--user-data-key", vectorKey, "not json"}, nil, 2, "must be a JSON object"},
		{[]string{"userdata", "encrypt", "--user-data-key", vectorKey, "--iv", "0001", vectorPlain}, nil, 2, "--iv must be 16 bytes in hex"},
		{[]string{"userdata", "encrypt", "--user-data-key", vectorKey, "a", "b"}, nil, 2, "accepts at most 1 arg"},
	} {
		t.Run(strings.Join(c.args[1:], " "), func(t *testing.T) {
			out, errOut, code := runCmd(t, t.Context(), c.env, c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errOut, c.code, c.want)
			}
			if strings.Contains(errOut, vectorKey[:10]) || strings.Contains(errOut, other[:10]) {
				t.Fatalf("the key is printed: %q", errOut)
			}
			if c.code != 0 && out != "" {
				t.Fatalf("stdout %q on failure", out)
			}
		})
	}
	out, _, code := runCmd(t, t.Context(), nil, "userdata", "key")
	if code != 0 || len(strings.TrimSpace(out)) != 44 {
		t.Fatalf("userdata key: exit %d, %q", code, out)
	}
}

func TestUserDataKeyConfig(t *testing.T) {
	t.Parallel()
	out, errOut, code := runCmd(t, t.Context(), map[string]string{"BOXO_SIM_USER_DATA_KEY": vectorKey}, "config", "print")
	if code != 0 || !strings.Contains(out, "user_data_key: u9Qd…[44]  # env BOXO_SIM_USER_DATA_KEY") || strings.Contains(out, vectorKey[:10]) {
		t.Fatalf("config print: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
}

// env2 builds an env over a map, for tests that drive the cobra tree themselves.
type env2 struct{ m map[string]string }

func (e env2) env(stdout, stderr *strings.Builder) *env {
	return &env{getenv: func(k string) string { return e.m[k] }, stdout: stdout, stderr: stderr}
}

func TestCheckMiniappUserDataKey(t *testing.T) {
	t.Parallel()
	out, _, code := runCmd(t, t.Context(), nil, "check", "miniapp", "--list")
	if code != 0 || !strings.Contains(out, "With --user-data-key, also:") || !strings.Contains(out, "encrypted-bad-padding") {
		t.Fatalf("--list: exit %d\n%s", code, out)
	}
	_, errOut, code := runCmd(t, t.Context(), map[string]string{"BOXO_SIM_USER_DATA_KEY": "short"}, "check", "miniapp",
		"--auth-token-url", "http://127.0.0.1:1/boxo/auth-token", "--app-id", "a", "--miniapp-secret", "s")
	if code != 2 || !strings.Contains(errOut, "the user data key: the key must be 32 bytes") {
		t.Fatalf("bad key from the environment: exit %d, stderr %q", code, errOut)
	}
}

// TestUpWithEncryptedUserData starts up as a user would with --user-data-key, runs a flow and
// reads its trace: steps 9 and 10 carry the ciphertext, masked.
func TestUpWithEncryptedUserData(t *testing.T) {
	t.Parallel()
	up := startUp(t, append([]string{"--user-data-key", vectorKey, "--trusted-proxies", "10.0.0.0/8", "--auth-code-ttl", "2m"}, allPorts0...)...)
	if strings.Contains(up.out.String()+up.errb.String(), vectorKey[:10]) {
		t.Fatalf("up printed the key:\n%s\n%s", up.out.String(), up.errb.String())
	}
	urls := up.urls
	resp, err := http.Get(urls["hostapp"] + "/_sim/settings")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	_, _ = io.Copy(&b, resp.Body)
	resp.Body.Close()
	for _, want := range []string{`"encrypted_user_data":{"app16973":"u9Qd…[44]"}`, `"trusted_proxies":["10.0.0.0/8"]`, `"auth_code":120`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("host settings lack %s: %s", want, b.String())
		}
	}
	if stdout, stderr, code := runCmd(t, t.Context(), nil, "connect", "--user", "bob", "--platform-url", urls["platform"]); code != 0 {
		t.Fatalf("connect: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, _, code := runCmd(t, t.Context(), nil, "trace", "--verbose", "--platform-url", urls["platform"])
	masked := regexp.MustCompile(`(?m)^step (9|10) .*\n(?:  .*\n)*?  (?:response|request) body \{"user_data":"[^"…]{4}…\[\d+\]"\}$`)
	if code != 0 || len(masked.FindAllString(stdout, -1)) != 2 {
		t.Fatalf("trace --verbose does not show the masked ciphertext at steps 9 and 10 (exit %d):\n%s", code, stdout)
	}
}
