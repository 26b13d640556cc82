package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const teamSeed = "../../internal/seed/testdata/team.seed.yaml"

// TestUpSeedThenExport: up --seed applies the file before the banner says it serves and
// before --demo's flow; export writes the setup back, masked or with secrets, as YAML or
// JSON, to stdout or a file only its owner reads.
func TestUpSeedThenExport(t *testing.T) {
	urls := runUpForFaults(t, "--seed", teamSeed, "--demo")
	ctx := context.Background()
	at := []string{"--platform-url", urls["platform"]}

	masked, _, code := runCmd(t, ctx, nil, append([]string{"export"}, at...)...)
	if code != 0 || !strings.Contains(masked, "# SECRETS MASKED") || !strings.Contains(masked, "hostapp_secret_key: host…[16]") ||
		!strings.Contains(masked, "client_id: team-host") || !strings.Contains(masked, "app_id: shop-app") {
		t.Fatalf("export = %d:\n%s", code, masked)
	}

	out := filepath.Join(t.TempDir(), "team.yaml")
	stdout, _, code := runCmd(t, ctx, nil, append([]string{"export", "--with-secrets", "-o", out}, at...)...)
	if code != 0 || !strings.Contains(stdout, "Wrote "+out+": 5 users, 2 host apps, 2 miniapps, 4 partnerships, 5 OAuth clients, 1 fault.") {
		t.Fatalf("export -o = %d: %s", code, stdout)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the exported file: %v, mode %v, want 0600", err, fi.Mode())
	}
	b, _ := os.ReadFile(out)
	if strings.Contains(string(b), "MASKED") || !strings.Contains(string(b), "hostapp_secret_key: hostapp-secret-1") {
		t.Errorf("export --with-secrets:\n%s", b)
	}

	js, _, code := runCmd(t, ctx, nil, append([]string{"export", "--json"}, at...)...)
	var doc struct {
		Dashboard struct {
			Miniapps []struct {
				AppID string `json:"app_id"`
			} `json:"miniapps"`
		} `json:"dashboard"`
	}
	if code != 0 || json.Unmarshal([]byte(js), &doc) != nil || len(doc.Dashboard.Miniapps) != 2 {
		t.Errorf("export --json = %d:\n%s", code, js)
	}

	// A masked export does not start a stack: a setup error, each masked value by its line.
	mfile := filepath.Join(t.TempDir(), "masked.yaml")
	os.WriteFile(mfile, []byte(masked), 0o600)
	_, stderr, code := runCmd(t, ctx, nil, "up", "--ephemeral", "--hostapp-port", "0", "--platform-port", "0", "--miniapp-port", "0", "--seed", mfile)
	if code != 2 || !strings.Contains(stderr, "is malformed; nothing was applied") || !strings.Contains(stderr, mfile+":") ||
		!strings.Contains(stderr, "dashboard.hostapps[0].hostapp_secret_key is masked") {
		t.Errorf("up --seed MASKED = %d:\n%s", code, stderr)
	}
}

// TestUpSeedBanner: the seed is applied before the banner and before --demo's flow runs.
func TestUpSeedBanner(t *testing.T) {
	up := startUp(t, append([]string{"--ephemeral", "--seed", teamSeed, "--demo"}, allPorts0...)...)
	up.stop()
	s := up.out.String()
	applied, flow := strings.Index(s, "Seed file "+teamSeed+" applied."), strings.Index(s, "STEP")
	if applied < 0 || flow < 0 || applied > flow {
		t.Errorf("up --seed --demo printed:\n%s", s)
	}
}

// TestSeedSetting: the seed comes from --seed, BOXO_SIM_SEED or the config file's seed key;
// a malformed file stops up before anything listens, with exit status 2 and file:line.
func TestSeedSetting(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("users:\n  - username: dave\n    nick: d\n"), 0o600)
	cfg := filepath.Join(dir, "boxo-sim.yaml")
	os.WriteFile(cfg, []byte("seed: "+bad+"\n"), 0o600)
	ports := []string{"up", "--ephemeral", "--hostapp-port", "0", "--platform-port", "0", "--miniapp-port", "0"}
	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
	}{
		"flag":   {nil, []string{"--seed", bad}},
		"env":    {map[string]string{"BOXO_SIM_SEED": bad}, nil},
		"config": {map[string]string{"BOXO_SIM_CONFIG": cfg}, nil},
	} {
		_, stderr, code := runCmd(t, context.Background(), tc.env, append(ports, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, bad+`:3: unknown key "nick" in users[0]`) {
			t.Errorf("%s: up = %d:\n%s", name, code, stderr)
		}
	}
	stdout, _, _ := runCmd(t, context.Background(), map[string]string{"BOXO_SIM_SEED": bad}, "config", "print")
	if !strings.Contains(stdout, "seed: "+bad) {
		t.Errorf("config print does not show the seed:\n%s", stdout)
	}
}
