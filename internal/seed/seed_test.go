package seed_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/seed"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/internal/strictyaml"
	"github.com/boxo-sim/boxo-sim/internal/strictyaml/schematest"
	"github.com/boxo-sim/boxo-sim/internal/testkit"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// TestSchemaIsFresh fails when seed.schema.json is not what the Go types generate.
func TestSchemaIsFresh(t *testing.T) {
	t.Parallel()
	schematest.Fresh(t, seed.SchemaFile, seed.Schema, "go generate ./internal/seed")
}

// TestExamplesValidate: the example files load and validate against the shipped schema,
// and typical mistakes do not.
func TestExamplesValidate(t *testing.T) {
	t.Parallel()
	v := schematest.Validator(t, seed.SchemaFile)
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) < 2 {
		t.Fatalf("testdata holds %d seed files", len(files))
	}
	schematest.Accepts(t, v, files...)
	for _, f := range files {
		if _, err := seed.Load(f); err != nil {
			t.Errorf("%s does not load: %v", f, err)
		}
	}
	schematest.Refuses(t, v, map[string]string{
		"unknown key":          "colour: red\n",
		"unknown key in user":  "users: [{username: a, reference: r, nick: n}]\n",
		"bad required field":   "dashboard: {miniapps: [{app_id: x, required_fields: [shoe]}]}\n",
		"bad redirect match":   "clients: [{client_id: c, redirect_match: loose}]\n",
		"client without id":    "clients: [{name: c}]\n",
		"bad fault kind":       "faults: [{step: 7, kind: explode}]\n",
		"bad user data method": "dashboard: {hostapp: {user_data_method: PUT}}\n",
	})
}

// TestParseStrict: every problem of a file is reported with its file and line, naming the
// record and field.
func TestParseStrict(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		line       int
		want       string
	}{
		{"unknown top-level key", "users: []\nhostapps: []\n", 2, `unknown key "hostapps" at the top level: use one of users, dashboard`},
		{"unknown record key", "dashboard:\n  hostapps:\n    - client_id: h1\n      secret: x\n", 4, `unknown key "secret" in dashboard.hostapps[0]`},
		{"wrong type", "dashboard:\n  partnerships:\n    - {client_id: a, app_id: b, direct_enabled: yes please}\n", 3, "want true or false"},
		{"host app without id", "dashboard:\n  hostapps:\n    - name: Team\n", 3, "dashboard.hostapps[0]: give the host app's client_id"},
		{"duplicate miniapp", "dashboard:\n  miniapps:\n    - app_id: m1\n    - app_id: m1\n", 4, `dashboard.miniapps[1].app_id: miniapp "m1" is given twice`},
		{"shorthand and list", "dashboard:\n  hostapp: {name: X}\n  hostapps:\n    - client_id: \"352131\"\n", 2, "demo record 352131 is also in hostapps"},
		{"bad URL", "dashboard:\n  hostapps:\n    - client_id: h1\n      access_token_url: ftp://x/y\n", 4, `dashboard.hostapps[0].access_token_url "ftp://x/y": give an absolute http(s) URL, or a path`},
		{"bad CIDR", "hostapp:\n  ip_allowlist: [10.0.0.0/33]\n", 2, `hostapp.ip_allowlist[0] "10.0.0.0/33"`},
		{"bad required field", "miniapp:\n  required_fields: [email, shoe]\n", 2, `miniapp.required_fields[1] "shoe": use one of email`},
		{"masked secret", "dashboard:\n  miniapps:\n    - app_id: m1\n      secret_key: \"mini…[16]\"\n", 4, "dashboard.miniapps[0].secret_key is masked (mini…[16]), not a secret: this file was exported without --with-secrets"},
		{"masked key", "hostapp:\n  encrypted_user_data:\n    app16973: \"…[8]\"\n", 3, "hostapp.encrypted_user_data.app16973 is masked"},
		{"public client with secret", "clients:\n  - client_id: spa\n    token_endpoint_auth_method: none\n    secret: s\n", 4, "clients[0].secret: a client with token_endpoint_auth_method none is public"},
		{"bad fault", "faults:\n  - step: 7\n    kind: error_code\n    error_code: NOPE\n", 4, "faults[0]: error_code"},
		{"user without reference", "users:\n  - username: dave\n", 2, "users[0] (dave) needs a reference"},
		{"alias", "users:\n  - &u {username: a, reference: r}\n  - *u\n", 3, "aliases (*u) are not supported in seed file files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := seed.Parse("team.yaml", []byte(tc.body))
			var le *strictyaml.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Parse = %v, want a LoadError", err)
			}
			for _, is := range le.Issues {
				if is.Line == tc.line && strings.Contains(is.Msg, tc.want) && is.File == "team.yaml" {
					return
				}
			}
			t.Errorf("want team.yaml:%d: …%s…; got:\n%v", tc.line, tc.want, err)
		})
	}
}

// start starts an in-process stack with a seed file, as up --seed does.
func start(t *testing.T, seedFile string) *stack.Stack {
	t.Helper()
	st, err := stack.Start(t.Context(), stack.Config{
		HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
		DataDir: t.TempDir(), SigningKey: testkit.SigningKey(), AdminToken: "seed-test-admin-token-0001", SeedFile: seedFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// export writes the stack's setup as a seed file, without the header (it names the stack).
func export(t *testing.T, st *stack.Stack, withSecrets bool) []byte {
	t.Helper()
	f, err := seed.Export(t.Context(), st.SeedTarget(), withSecrets)
	if err != nil {
		t.Fatal(err)
	}
	// Every stack here holds a Dashboard secret, which only --with-secrets shows.
	if f.Masked() == withSecrets {
		t.Errorf("Masked() = %v for an export with secrets %v", f.Masked(), withSecrets)
	}
	b, err := f.YAML()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t *testing.T, body []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "seed.yaml")
	if err := os.WriteFile(p, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRoundTrip: a stack started with a seed file exports a file that has everything the
// seed declared, and that file starts another stack (on other ports) in the same state:
// its export is the same file.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	st := start(t, "testdata/team.seed.yaml")
	first := export(t, st, true)
	for _, want := range []string{
		"username: dave", "reference: team-u-2001", "tier: silver",
		"client_id: team-host", "name: Team Super App", "access_token_url: /boxo/connect/access-token", "auth_token_url: /boxo/auth-token",
		"app_id: shop-app", "auth_token_url: http://127.0.0.1:3000/boxo/auth-token", "secret_key: shop-secret-1",
		"title: Privacy policy", "user_data_method: POST", "use_access_token: true",
		"client_id: team-spa", "token_endpoint_auth_method: none", "require_pkce: true",
		"field: user_data.email", "nth: 3",
		"  signing_enabled: false\n  signing_secret: \"\"\nplatform:", // the miniapp's, even when empty
	} {
		if !bytes.Contains(first, []byte(want)) {
			t.Errorf("the export lacks %q:\n%s", want, first)
		}
	}
	// The second stack needs the secrets no export holds: the confidential client's.
	withClientSecret := bytes.Replace(first, []byte("  - client_id: team-web\n"), []byte("  - client_id: team-web\n    secret: team-web-secret-1\n"), 1)
	if bytes.Equal(withClientSecret, first) {
		t.Fatal("the export lacks the client team-web")
	}
	st.Close() // the second stack must stand on its own ports
	other := start(t, write(t, withClientSecret))
	if second := export(t, other, true); !bytes.Equal(first, second) {
		t.Errorf("the export of the stack seeded with the export differs:\nfirst:\n%s\nsecond:\n%s", first, second)
	}
	sdk, err := other.SDK(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sdk.CloseIdleConnections()
	if _, err := sdk.Connect(t.Context(), sdkstub.Options{}); err != nil {
		t.Errorf("a flow on the stack seeded with the export: %v", err)
	}
}

// TestExportWithSecrets: the secrets the parties keep raw come back in full with
// --with-secrets (Dashboard and party signing secrets, encryption keys), and the export of
// the export is the same; without it none of them is in the file.
func TestExportWithSecrets(t *testing.T) {
	t.Parallel()
	st := start(t, "testdata/connect.seed.yaml")
	first := export(t, st, true)
	key := "uPVgkpoWTUZiRmWaNkskFNlevxiPdeD3kkFkRyZIowo="
	for _, want := range []string{
		"hostapp_secret_key: team-boxo-secret-1", "signing_secret: team-signing-secret-0001", "signing_secret: shop-signing-secret-0001",
		"shop-app: " + key, "user_data_key: " + key, "secret_key: shop-secret-1",
	} {
		if n := bytes.Count(first, []byte(want)); n == 0 {
			t.Errorf("export --with-secrets lacks %q:\n%s", want, first)
		}
	}
	masked := export(t, st, false)
	for _, secret := range []string{"team-boxo-secret-1", "team-signing-secret-0001", "shop-signing-secret-0001", key} {
		if bytes.Contains(masked, []byte(secret)) {
			t.Errorf("the masked export holds %s:\n%s", secret, masked)
		}
	}
	// The client's secret and the miniapp backend's secret_key are kept as hashes: a fresh
	// stack needs them written in.
	again := bytes.Replace(first, []byte("  - client_id: team-boxo\n"), []byte("  - client_id: team-boxo\n    secret: team-boxo-secret-1\n"), 1)
	again = bytes.Replace(again, []byte("miniapp:\n  app_id: shop-app\n"), []byte("miniapp:\n  app_id: shop-app\n  secret_key: shop-secret-1\n"), 1)
	other := start(t, write(t, again))
	if second := export(t, other, true); !bytes.Equal(first, second) {
		t.Errorf("the export of the stack seeded with the export differs:\nfirst:\n%s\nsecond:\n%s", first, second)
	}
}

// TestApplyIsIdempotent: applying a file twice gives the same state (faults are replaced,
// not added; users and records are put, not duplicated).
func TestApplyIsIdempotent(t *testing.T) {
	t.Parallel()
	st := start(t, "testdata/team.seed.yaml")
	once := export(t, st, true)
	f, err := seed.Load("testdata/team.seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.Apply(t.Context(), st.SeedTarget(), f); err != nil {
		t.Fatal(err)
	}
	if twice := export(t, st, true); !bytes.Equal(once, twice) {
		t.Errorf("a second apply changed the state:\nonce:\n%s\ntwice:\n%s", once, twice)
	}
	if n := len(st.Faults("hostapp").List()); n != 1 {
		t.Errorf("the host's fault table holds %d faults after two applies, want 1", n)
	}
	// The export has no passwords: applying it keeps dave's, given by the seed file.
	ef, err := seed.Parse("export.yaml", once)
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.Apply(t.Context(), st.SeedTarget(), ef); err != nil {
		t.Fatal(err)
	}
	sdk, err := st.SDK(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sdk.CloseIdleConnections()
	if _, err := sdk.Connect(t.Context(), sdkstub.Options{User: "dave", Password: "dave-secret-1"}); err != nil {
		t.Errorf("dave signs in with the seed file's password after the export was applied: %v", err)
	}
}

// TestMaskedExportIsRefused: without --with-secrets the export is masked, and a stack given
// it does not start, naming each masked secret with its line.
func TestMaskedExportIsRefused(t *testing.T) {
	t.Parallel()
	st := start(t, "")
	masked := export(t, st, false)
	if bytes.Contains(masked, []byte("hostapp-secret-1")) || bytes.Contains(masked, []byte("miniapp-secret-1")) {
		t.Fatalf("the masked export holds a secret:\n%s", masked)
	}
	_, err := seed.Parse("x", masked)
	if err == nil || !strings.Contains(err.Error(), "dashboard.hostapps[0].hostapp_secret_key is masked (host…[16])") {
		t.Fatalf("Parse of the masked export = %v", err)
	}
	_, err = stack.Start(t.Context(), stack.Config{HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
		DataDir: t.TempDir(), SigningKey: testkit.SigningKey(), SeedFile: write(t, masked)})
	var se *seed.Error
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "is malformed; nothing was applied") || !strings.Contains(err.Error(), "seed.yaml:") {
		t.Fatalf("Start with a masked seed = %v", err)
	}
}

// TestRefusalChangesNothing: a file the stack cannot take (a new host app without its
// required fields, a partnership with an unknown miniapp) is refused before anything
// changes, each reason naming the record, field and line.
func TestRefusalChangesNothing(t *testing.T) {
	t.Parallel()
	st := start(t, "")
	body := "users:\n  - username: zed\n    reference: z-1\n" +
		"dashboard:\n  hostapps:\n    - client_id: new-host\n      name: New\n" +
		"  partnerships:\n    - client_id: \"352131\"\n      app_id: nowhere\n"
	f, err := seed.Parse("bad.yaml", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	err = seed.Apply(t.Context(), st.SeedTarget(), f)
	for _, want := range []string{
		"nothing was changed",
		`bad.yaml:6: dashboard.hostapps[0]: a new host app (client_id "new-host") needs access_token_url, user_data_url, hostapp_client_id, hostapp_secret_key`,
		`bad.yaml:10: dashboard.partnerships[0].app_id: no miniapp "nowhere": declare it under dashboard.miniapps`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Apply = %v\nwant it to contain %q", err, want)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, st.HostURL+"/_sim/users/zed", nil)
	resp, err := st.SeedTarget().Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET the user of a refused file = %d, want 404: the refusal changed something", resp.StatusCode)
	}
}

// TestSeededAppsConnect: a second host app, a second miniapp (the stack's miniapp backend
// now answering for it), their partnership, a Boxo-facing OAuth client and a user, all from
// a seed file, carry a real Connect flow of the fake SDK.
func TestSeededAppsConnect(t *testing.T) {
	t.Parallel()
	st := start(t, "testdata/connect.seed.yaml")
	sdk, err := sdkstub.New(sdkstub.Config{PlatformURL: st.PlatformURL, HostURL: st.HostURL, ClientID: "team-host",
		HostappClientID: "team-boxo", AdminToken: "seed-test-admin-token-0001"})
	if err != nil {
		t.Fatal(err)
	}
	defer sdk.CloseIdleConnections()
	res, err := sdk.Connect(context.Background(), sdkstub.Options{User: "dave", Password: "dave-secret-1", AppID: "shop-app"})
	if err != nil {
		t.Fatalf("Connect as dave to shop-app through team-host: %v", err)
	}
	if res.Me == nil || res.Me.Reference != "team-u-2001" || res.Me.Email != "dave@example.com" {
		t.Errorf("the miniapp's /api/me = %+v, want dave's reference and e-mail", res.Me)
	}
	// The demo host app is not partnered with the seeded miniapp.
	demoSDK, err := st.SDK(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer demoSDK.CloseIdleConnections()
	if _, err := demoSDK.Connect(context.Background(), sdkstub.Options{AppID: "shop-app"}); err == nil || !strings.Contains(err.Error(), "NO_INTEGRATION") {
		t.Errorf("the demo host app connecting to shop-app without a partnership: %v", err)
	}
}
