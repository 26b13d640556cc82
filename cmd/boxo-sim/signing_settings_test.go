package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// TestRelaySigningSettings: the request-signing secrets towards relayed backends are settings
// like the relay credentials (flag, BOXO_SIM_*, YAML key), masked by config print, and refused
// for a backend that is not relayed.
func TestRelaySigningSettings(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "boxo-sim.yaml")
	if err := os.WriteFile(file, []byte("miniapp_signing_secret: mini-sign-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BOXO_SIM_HOSTAPP_SIGNING_SECRET": "host-sign-from-env", "BOXO_SIM_CONFIG": file}
	out, errOut, code := runCmd(t, t.Context(), env, "config", "print")
	for _, want := range []string{
		"hostapp_signing_secret: " + yamlScalar(contract.Mask("host-sign-from-env")) + "  # env BOXO_SIM_HOSTAPP_SIGNING_SECRET",
		"miniapp_signing_secret: " + yamlScalar(contract.Mask("mini-sign-from-file")) + "  # file " + file,
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("config print lacks %q (exit %d, stderr %q):\n%s", want, code, errOut, out)
		}
	}
	if strings.Contains(out, "host-sign-from-env") || strings.Contains(out, "mini-sign-from-file") {
		t.Errorf("config print shows a signing secret:\n%s", out)
	}
	ports := []string{"--ephemeral", "--hostapp-port", "0", "--platform-port", "0", "--miniapp-port", "0"}
	for _, flag := range []string{"--hostapp-signing-secret", "--miniapp-signing-secret"} {
		_, errOut, code := runCmd(t, t.Context(), nil, append([]string{"up", flag, "s3cret"}, ports...)...)
		if code == 0 || !strings.Contains(errOut, "signing_secret is for a backend not started here") {
			t.Errorf("up %s without its backend's URL: exit %d, stderr %q", flag, code, errOut)
		}
	}
}
