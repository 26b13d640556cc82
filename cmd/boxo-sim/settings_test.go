package main

import (
	"strings"
	"testing"
)

func TestLifetimeSettings(t *testing.T) {
	t.Parallel()
	out, errOut, code := runCmd(t, t.Context(), map[string]string{"BOXO_SIM_AUTH_CODE_TTL": "1m"}, "config", "print")
	for _, want := range []string{
		"auth_code_ttl: 1m0s  # env BOXO_SIM_AUTH_CODE_TTL", "connect_access_ttl: 1h0m0s  # default",
		"connect_refresh_ttl: 720h0m0s  # default", "session_ttl: 12h0m0s  # default", "id_token_ttl: 168h0m0s  # default",
		"access_token_ttl: 87600h0m0s  # default", "refresh_token_ttl: 720h0m0s  # default",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("config print lacks %q (exit %d, stderr %q):\n%s", want, code, errOut, out)
		}
	}
	for _, env := range []map[string]string{{"BOXO_SIM_SESSION_TTL": "0s"}, {"BOXO_SIM_ID_TOKEN_TTL": "-1h"}, {"BOXO_SIM_REFRESH_TOKEN_TTL": "500ms"}} {
		_, errOut, code := runCmd(t, t.Context(), env, "config", "print")
		if code == 0 || !strings.Contains(errOut, "must be at least 1s") {
			t.Errorf("%v: exit %d, stderr %q; want a refusal", env, code, errOut)
		}
	}
	_, errOut, code = runCmd(t, t.Context(), nil, "up", "--auth-code-ttl", "0s", "--ephemeral")
	if code == 0 || !strings.Contains(errOut, "auth_code_ttl 0s must be at least 1s") {
		t.Errorf("up --auth-code-ttl 0s: exit %d, stderr %q", code, errOut)
	}
}

func TestTrustedProxiesSetting(t *testing.T) {
	t.Parallel()
	out, errOut, code := runCmd(t, t.Context(), map[string]string{"BOXO_SIM_TRUSTED_PROXIES": "10.0.0.0/8,fd00::/8"}, "config", "print")
	if code != 0 || !strings.Contains(out, `trusted_proxies: 10.0.0.0/8,fd00::/8  # env BOXO_SIM_TRUSTED_PROXIES`) {
		t.Fatalf("config print: exit %d, stderr %q:\n%s", code, errOut, out)
	}
	_, errOut, code = runCmd(t, t.Context(), nil, "up", "--ephemeral", "--trusted-proxies", "10.0.0.0/33")
	if code == 0 || !strings.Contains(errOut, "trusted_proxies: entry \"10.0.0.0/33\" is not a valid CIDR") {
		t.Fatalf("up --trusted-proxies 10.0.0.0/33: exit %d, stderr %q", code, errOut)
	}
}
