package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/cors"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/internal/userdata"
)

// Config is boxo-sim's effective configuration, resolved once from flags, then BOXO_SIM_*
// environment variables, then the YAML file, then defaults (first found wins).
type Config struct {
	Bind         string        `yaml:"bind"`
	HostappPort  int           `yaml:"hostapp_port"`
	PlatformPort int           `yaml:"platform_port"`
	MiniappPort  int           `yaml:"miniapp_port"`
	DataDir      string        `yaml:"data_dir"`
	Ephemeral    bool          `yaml:"ephemeral"`
	LogLevel     string        `yaml:"log_level"`
	LogFormat    string        `yaml:"log_format"`
	CallTimeout  time.Duration `yaml:"call_timeout"`
	// Where running parties are, for connect and trace; "" means the local defaults.
	PlatformURL string `yaml:"platform_url"`
	HostappURL  string `yaml:"hostapp_url"`
	MiniappURL  string `yaml:"miniapp_url"`
	ClientID    string `yaml:"client_id"`
	// Dashboard credentials the platform uses towards a real backend (relay mode), and how the
	// fake SDK gets an auth code from a real host app.
	HostappClientID string `yaml:"hostapp_client_id"`
	HostappSecret   string `yaml:"hostapp_secret"`
	TokenPrefix     string `yaml:"token_prefix"`
	MiniappAppID    string `yaml:"miniapp_app_id"`
	MiniappSecret   string `yaml:"miniapp_secret"`
	// Request-signing secrets (PROTOCOL §7.8) of a real backend: given, the Dashboard has
	// signing on for it, so the platform signs its calls to it and, for a host backend,
	// verifies that backend's Direct and consent calls with the secret.
	HostappSigningSecret string `yaml:"hostapp_signing_secret"`
	MiniappSigningSecret string `yaml:"miniapp_signing_secret"`
	AuthCodeCmd          string `yaml:"auth_code_cmd"`
	AuthCodeURL          string `yaml:"auth_code_url"`
	// Endpoints of a real backend whose paths differ from boxo-sim's: absolute URLs, or paths
	// under hostapp_url / miniapp_url; "" means the default paths.
	AccessTokenURL  string `yaml:"access_token_url"`
	UserDataURL     string `yaml:"user_data_url"`
	UserDataMethod  string `yaml:"user_data_method"`
	RefreshTokenURL string `yaml:"refresh_token_url"`
	AuthTokenURL    string `yaml:"auth_token_url"`
	// RequiredFields are the miniapp's required user fields, comma-separated; "none" clears
	// them, "" keeps the Dashboard's.
	RequiredFields string `yaml:"required_fields"`
	// CACert is a PEM file of CAs trusted for HTTPS backends, besides the system's;
	// InsecureSkipVerify trusts any certificate (a warning is printed).
	CACert             string `yaml:"ca_cert"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	// CORSOrigins lists the origins whose pages may call the parties' browser-facing
	// endpoints (PROTOCOL §2.12), comma-separated; empty means any origin.
	CORSOrigins string `yaml:"cors_origins"`
	// AdminToken is the stack's admin token (PROTOCOL §2.13): up uses it instead of making
	// one; client commands send it to the parties' /_sim/ routes ("" means: the one in the
	// data directory's state file).
	AdminToken string `yaml:"admin_token"`
	// BodyTimeout bounds how long a request body may take to arrive.
	BodyTimeout time.Duration `yaml:"body_timeout"`
	// ShutdownGrace is how long up waits for requests in flight when stopping.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// FlowLogMaxFlows and FlowLogMaxAge bound the platform's flow log: the newest flows are
	// kept, at most this many, none older than this.
	FlowLogMaxFlows int           `yaml:"flow_log_max_flows"`
	FlowLogMaxAge   time.Duration `yaml:"flow_log_max_age"`
	// UserDataKey switches encrypted user_data on (PROTOCOL §7.2) for the host app and the
	// miniapp started here; userdata encrypt and decrypt use it when --user-data-key is not given.
	UserDataKey string `yaml:"user_data_key"`
	// TrustedProxies are the proxies, comma-separated CIDRs, whose X-Forwarded-For the
	// parties started here believe (PROTOCOL §7.6); "" leaves their stored settings alone.
	TrustedProxies string `yaml:"trusted_proxies"`
	// The host app's lifetimes (PROTOCOL §6.4, §6.8, §9.12, §9.31).
	AuthCodeTTL       time.Duration `yaml:"auth_code_ttl"`
	ConnectAccessTTL  time.Duration `yaml:"connect_access_ttl"`
	ConnectRefreshTTL time.Duration `yaml:"connect_refresh_ttl"`
	SessionTTL        time.Duration `yaml:"session_ttl"`
	IDTokenTTL        time.Duration `yaml:"id_token_ttl"`
	AccessTokenTTL    time.Duration `yaml:"access_token_ttl"`
	RefreshTokenTTL   time.Duration `yaml:"refresh_token_ttl"`
	// Seed is a seed file (users, Dashboard records, settings, clients, faults) up applies
	// once the parties serve; "" applies none.
	Seed string `yaml:"seed"`
}

func defaultConfig() Config {
	return Config{
		Bind: "127.0.0.1", HostappPort: 8081, PlatformPort: 8082, MiniappPort: 8083,
		DataDir: "./.boxo-sim", LogLevel: "info", LogFormat: "text", CallTimeout: 10 * time.Second,
		BodyTimeout: stack.DefaultBodyTimeout, ShutdownGrace: stack.DefaultShutdownGrace,
		FlowLogMaxFlows: stack.DefaultFlowLogMaxFlows, FlowLogMaxAge: stack.DefaultFlowLogMaxAge,
		AuthCodeTTL: hostapp.DefaultAuthCodeTTL, ConnectAccessTTL: hostapp.DefaultConnectAccessTTL,
		ConnectRefreshTTL: hostapp.DefaultConnectRefreshTTL, SessionTTL: hostapp.DefaultSessionTTL,
		IDTokenTTL: hostapp.DefaultIDTokenTTL, AccessTokenTTL: hostapp.DefaultAccessTokenTTL,
		RefreshTokenTTL: hostapp.DefaultRefreshTokenTTL,
	}
}

// trustedProxies is the trusted_proxies setting as the stack takes it: nil when unset.
func (c Config) trustedProxies() ([]string, error) {
	if strings.TrimSpace(c.TrustedProxies) == "" {
		return nil, nil
	}
	list, err := contract.NormalizeAllowlist(strings.Split(c.TrustedProxies, ","))
	if err != nil {
		return nil, fmt.Errorf("trusted_proxies: %w", err)
	}
	return list, nil
}

// lifetimes maps the lifetime settings to the stack's.
func (c Config) lifetimes() stack.Lifetimes {
	return stack.Lifetimes{AuthCode: c.AuthCodeTTL, ConnectAccess: c.ConnectAccessTTL, ConnectRefresh: c.ConnectRefreshTTL,
		Session: c.SessionTTL, IDToken: c.IDTokenTTL, AccessToken: c.AccessTokenTTL, RefreshToken: c.RefreshTokenTTL}
}

// setting is one configuration key: its YAML name, flag name, environment variable and how to
// read and write it as text.
type setting struct {
	key    string // YAML key; the env var is BOXO_SIM_<KEY>; the flag is --<key with dashes>
	flag   string
	usage  string
	secret bool
	raw    bool // printed as is: numbers, booleans, durations
	get    func(*Config) string
	set    func(*Config, string) error
}

func (s setting) env() string { return "BOXO_SIM_" + strings.ToUpper(s.key) }

func strSetting(key, flag, usage string, p func(*Config) *string) setting {
	return setting{key: key, flag: flag, usage: usage,
		get: func(c *Config) string { return *p(c) },
		set: func(c *Config, v string) error { *p(c) = v; return nil }}
}

func intSetting(key, flag, usage string, p func(*Config) *int) setting {
	return setting{key: key, flag: flag, usage: usage, raw: true,
		get: func(c *Config) string { return strconv.Itoa(*p(c)) },
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			*p(c) = n
			return nil
		}}
}

var settings = []setting{
	strSetting("bind", "bind", "address the parties listen on", func(c *Config) *string { return &c.Bind }),
	intSetting("hostapp_port", "hostapp-port", "port of the host app", func(c *Config) *int { return &c.HostappPort }),
	intSetting("platform_port", "platform-port", "port of the platform", func(c *Config) *int { return &c.PlatformPort }),
	intSetting("miniapp_port", "miniapp-port", "port of the miniapp", func(c *Config) *int { return &c.MiniappPort }),
	strSetting("data_dir", "data-dir", "directory of hostapp.db, platform.db and miniapp.db", func(c *Config) *string { return &c.DataDir }),
	{key: "ephemeral", flag: "ephemeral", usage: "keep the databases in a temporary directory removed on exit", raw: true,
		get: func(c *Config) string { return strconv.FormatBool(c.Ephemeral) },
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			c.Ephemeral = b
			return nil
		}},
	strSetting("log_level", "log-level", "debug, info, warn or error", func(c *Config) *string { return &c.LogLevel }),
	strSetting("log_format", "log-format", "text or json", func(c *Config) *string { return &c.LogFormat }),
	durationSetting("call_timeout", "call-timeout", "how long the platform waits for the host app and the miniapp", func(c *Config) *time.Duration { return &c.CallTimeout }),
	durationSetting("body_timeout", "body-timeout", "how long a request body may take to arrive before the connection is cut", func(c *Config) *time.Duration { return &c.BodyTimeout }),
	durationSetting("shutdown_grace", "shutdown-grace", "how long up waits for requests in flight when stopping", func(c *Config) *time.Duration { return &c.ShutdownGrace }),
	intSetting("flow_log_max_flows", "flow-log-max-flows", "the flow log keeps at most this many flows, the newest", func(c *Config) *int { return &c.FlowLogMaxFlows }),
	durationSetting("flow_log_max_age", "flow-log-max-age", "the flow log drops flows older than this (e.g. 168h)", func(c *Config) *time.Duration { return &c.FlowLogMaxAge }),
	secretSetting("admin_token", "admin-token", "the stack's admin token for the parties' /_sim/ routes (default: up makes one; clients read it from the data directory)", func(c *Config) *string { return &c.AdminToken }),
	strSetting("platform_url", "platform-url", "URL of a running platform (connect, trace); default: the local one", func(c *Config) *string { return &c.PlatformURL }),
	strSetting("hostapp_url", "hostapp-url", "URL of a running host app (connect); default: the local one", func(c *Config) *string { return &c.HostappURL }),
	strSetting("miniapp_url", "miniapp-url", "URL of a miniapp backend not started here", func(c *Config) *string { return &c.MiniappURL }),
	strSetting("client_id", "client-id", "the host app's client_id at the platform (connect); default: the demo host app", func(c *Config) *string { return &c.ClientID }),
	strSetting("hostapp_client_id", "hostapp-client-id", "hostapp_client_id the platform sends to a real host backend", func(c *Config) *string { return &c.HostappClientID }),
	secretSetting("hostapp_secret", "hostapp-secret", "hostapp_secret_key the platform sends to a real host backend", func(c *Config) *string { return &c.HostappSecret }),
	strSetting("token_prefix", "token-prefix", "access token prefix towards a real host backend (default Token)", func(c *Config) *string { return &c.TokenPrefix }),
	strSetting("miniapp_app_id", "miniapp-app-id", "app_id of a real miniapp backend", func(c *Config) *string { return &c.MiniappAppID }),
	secretSetting("miniapp_secret", "miniapp-secret", "secret_key the platform sends to a real miniapp backend", func(c *Config) *string { return &c.MiniappSecret }),
	secretSetting("hostapp_signing_secret", "hostapp-signing-secret", "request-signing secret of a real host backend (contract §7.8): the platform signs its calls to it and verifies its Direct and consent calls with it", func(c *Config) *string { return &c.HostappSigningSecret }),
	secretSetting("miniapp_signing_secret", "miniapp-signing-secret", "request-signing secret of a real miniapp backend (contract §7.8): the platform signs its calls to it", func(c *Config) *string { return &c.MiniappSigningSecret }),
	strSetting("auth_code_cmd", "auth-code-cmd", "command that prints a fresh auth code from a real host app", func(c *Config) *string { return &c.AuthCodeCmd }),
	strSetting("auth_code_url", "auth-code-url", "URL that answers a fresh auth code from a real host app", func(c *Config) *string { return &c.AuthCodeURL }),
	secretSetting("user_data_key", "user-data-key", "switch encrypted user_data on (contract §7.2): the host app encrypts the miniapp's user data with this key (32 bytes, base64) and the miniapp decrypts with it", func(c *Config) *string { return &c.UserDataKey }),
	strSetting("trusted_proxies", "trusted-proxies", "proxies whose X-Forwarded-For the IP filters believe, comma-separated CIDRs, e.g. 10.0.0.0/8 (default: none; X-Forwarded-For is ignored)", func(c *Config) *string { return &c.TrustedProxies }),
	durationSetting("auth_code_ttl", "auth-code-ttl", "lifetime of the host app's auth codes", func(c *Config) *time.Duration { return &c.AuthCodeTTL }),
	durationSetting("connect_access_ttl", "connect-access-ttl", "lifetime of the Connect access tokens the host app gives the platform", func(c *Config) *time.Duration { return &c.ConnectAccessTTL }),
	durationSetting("connect_refresh_ttl", "connect-refresh-ttl", "lifetime of the Connect refresh tokens the host app gives the platform", func(c *Config) *time.Duration { return &c.ConnectRefreshTTL }),
	durationSetting("session_ttl", "session-ttl", "lifetime of a sign-in session at the host app (host_session cookie)", func(c *Config) *time.Duration { return &c.SessionTTL }),
	durationSetting("id_token_ttl", "id-token-ttl", "lifetime of the authorization server's ID tokens", func(c *Config) *time.Duration { return &c.IDTokenTTL }),
	durationSetting("access_token_ttl", "access-token-ttl", "lifetime of the authorization server's access tokens", func(c *Config) *time.Duration { return &c.AccessTokenTTL }),
	durationSetting("refresh_token_ttl", "refresh-token-ttl", "lifetime of the authorization server's refresh tokens", func(c *Config) *time.Duration { return &c.RefreshTokenTTL }),
	strSetting("access_token_url", "access-token-url", "the real host backend's access token endpoint (step 6): a path under hostapp_url, or a URL", func(c *Config) *string { return &c.AccessTokenURL }),
	strSetting("user_data_url", "user-data-url", "the real host backend's user data endpoint (step 8): a path under hostapp_url, or a URL", func(c *Config) *string { return &c.UserDataURL }),
	strSetting("user_data_method", "user-data-method", "method of the user data call to the real host backend: GET (default) or POST", func(c *Config) *string { return &c.UserDataMethod }),
	strSetting("refresh_token_url", "refresh-token-url", "the real host backend's refresh endpoint (contract §7.1): a path under hostapp_url, or a URL", func(c *Config) *string { return &c.RefreshTokenURL }),
	strSetting("auth_token_url", "auth-token-url", "the real miniapp backend's Get Auth Token endpoint (step 10): a path under miniapp_url, or a URL", func(c *Config) *string { return &c.AuthTokenURL }),
	strSetting("required_fields", "required-fields", "user fields the miniapp requires, comma-separated (email, phone, first_name, last_name, custom_attributes); none clears them", func(c *Config) *string { return &c.RequiredFields }),
	strSetting("ca_cert", "ca-cert", "PEM file of the CA(s) that signed an HTTPS backend's certificate, trusted besides the system's", func(c *Config) *string { return &c.CACert }),
	{key: "insecure_skip_verify", flag: "insecure-skip-verify", usage: "trust any certificate of an HTTPS backend (a test backend only; prints a warning)", raw: true,
		get: func(c *Config) string { return strconv.FormatBool(c.InsecureSkipVerify) },
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			c.InsecureSkipVerify = b
			return nil
		}},
	strSetting("seed", "seed", "a seed file (users, Dashboard records, settings, OAuth clients, faults) applied when the stack starts; 'boxo-sim export' writes one", func(c *Config) *string { return &c.Seed }),
	strSetting("cors_origins", "cors-origins", "origins whose pages may call the parties from a browser, comma-separated, e.g. http://localhost:5173 (default: any origin)", func(c *Config) *string { return &c.CORSOrigins }),
}

func durationSetting(key, flag, usage string, p func(*Config) *time.Duration) setting {
	return setting{key: key, flag: flag, usage: usage, raw: true,
		get: func(c *Config) string { return p(c).String() },
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%q is not a duration such as 10s or 500ms", v)
			}
			*p(c) = d
			return nil
		}}
}

func secretSetting(key, flag, usage string, p func(*Config) *string) setting {
	s := strSetting(key, flag, usage, p)
	s.secret = true
	return s
}

func findSetting(key string) (setting, bool) {
	for _, s := range settings {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

// source says where a setting's effective value came from, for config print.
type source map[string]string

// loadConfig resolves the configuration: defaults, then the YAML file (--config, or
// BOXO_SIM_CONFIG), then BOXO_SIM_* variables, then flags that were set. Only the keys in
// keys may come from flags (the command's own flags); others come from env and file.
func loadConfig(flags *pflag.FlagSet, getenv func(string) string) (Config, source, error) {
	cfg := defaultConfig()
	src := source{}
	for _, s := range settings {
		src[s.key] = "default"
	}
	path := ""
	if f := flags.Lookup("config"); f != nil && f.Changed {
		path = f.Value.String()
	} else if v := getenv("BOXO_SIM_CONFIG"); v != "" {
		path = v
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, src, fmt.Errorf("read config file: %w", err)
		}
		present, err := decodeConfigFile(b, &cfg)
		if err != nil {
			return cfg, src, fmt.Errorf("config file %s: %w", path, err)
		}
		for _, k := range present {
			src[k] = "file " + path
		}
	}
	for _, s := range settings {
		if v := getenv(s.env()); v != "" {
			if err := s.set(&cfg, v); err != nil {
				return cfg, src, fmt.Errorf("environment variable %s: %w", s.env(), err)
			}
			src[s.key] = "env " + s.env()
		}
	}
	for _, s := range settings {
		f := flags.Lookup(s.flag)
		if f == nil || !f.Changed {
			continue
		}
		if err := s.set(&cfg, f.Value.String()); err != nil {
			return cfg, src, fmt.Errorf("flag --%s: %w", s.flag, err)
		}
		src[s.key] = "flag --" + s.flag
	}
	for _, st := range settings {
		if st.secret && maskedValue.MatchString(st.get(&cfg)) {
			return cfg, src, fmt.Errorf("%s (from %s) is a masked value as 'config print' shows it, not the secret: give the real one", st.key, src[st.key])
		}
	}
	return cfg, src, cfg.validate()
}

// maskedValue matches what contract.Mask prints ("abcd…[18]"), so a printed configuration
// fed back as a file is caught instead of sending the mask as a secret.
var maskedValue = regexp.MustCompile(`…\[\d+\]$`)

// decodeConfigFile decodes YAML strictly: an unknown key is an error with its line.
func decodeConfigFile(b []byte, cfg *Config) ([]string, error) {
	var keys map[string]yaml.Node
	if err := yaml.Unmarshal(b, &keys); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, friendlyYAMLError(err)
	}
	var present []string
	for k := range keys {
		present = append(present, k)
	}
	return present, nil
}

// friendlyYAMLError rewrites yaml.v3's messages, which name Go types, in the words of the
// configuration: the line, the key, and what it takes.
func friendlyYAMLError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var msgs []string
	for _, m := range te.Errors {
		if sub := unknownField.FindStringSubmatch(m); sub != nil {
			var keys []string
			for _, st := range settings {
				keys = append(keys, st.key)
			}
			msgs = append(msgs, fmt.Sprintf("%s: unknown key %q (known keys: %s)", sub[1], sub[2], strings.Join(keys, ", ")))
			continue
		}
		if sub := badValue.FindStringSubmatch(m); sub != nil {
			want := map[string]string{"int": "a whole number", "bool": "true or false", "time.Duration": "a duration such as 10s", "string": "text"}[sub[3]]
			if want == "" {
				want = sub[3]
			}
			msgs = append(msgs, fmt.Sprintf("%s: %s is not %s", sub[1], sub[2], want))
			continue
		}
		msgs = append(msgs, m)
	}
	return errors.New(strings.Join(msgs, "; "))
}

var (
	unknownField = regexp.MustCompile(`^(line \d+): field (\S+) not found in type`)
	badValue     = regexp.MustCompile("^(line \\d+): cannot unmarshal !!\\w+ `([^`]*)` into (\\S+)")
)

func (c Config) validate() error {
	for name, p := range map[string]int{"hostapp_port": c.HostappPort, "platform_port": c.PlatformPort, "miniapp_port": c.MiniappPort} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("%s %d is out of range: use 1–65535, or 0 for any free port", name, p)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level %q: use debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("log_format %q: use text or json", c.LogFormat)
	}
	for name, d := range map[string]time.Duration{"call_timeout": c.CallTimeout, "body_timeout": c.BodyTimeout, "shutdown_grace": c.ShutdownGrace, "flow_log_max_age": c.FlowLogMaxAge} {
		if d <= 0 {
			return fmt.Errorf("%s %s must be positive", name, d)
		}
	}
	for name, d := range map[string]time.Duration{"auth_code_ttl": c.AuthCodeTTL, "connect_access_ttl": c.ConnectAccessTTL,
		"connect_refresh_ttl": c.ConnectRefreshTTL, "session_ttl": c.SessionTTL, "id_token_ttl": c.IDTokenTTL,
		"access_token_ttl": c.AccessTokenTTL, "refresh_token_ttl": c.RefreshTokenTTL} {
		if d < time.Second {
			return fmt.Errorf("%s %s must be at least 1s (a duration such as 10m, 1h or 720h)", name, d)
		}
	}
	if _, err := c.trustedProxies(); err != nil {
		return err
	}
	if c.UserDataKey != "" {
		if _, err := userdata.ParseKey(c.UserDataKey); err != nil {
			return fmt.Errorf("user_data_key: %w", err)
		}
	}
	if c.FlowLogMaxFlows < 1 {
		return fmt.Errorf("flow_log_max_flows %d must be at least 1", c.FlowLogMaxFlows)
	}
	if c.AdminToken != "" && (len(c.AdminToken) < 16 || strings.ContainsAny(c.AdminToken, " \t\r\n")) {
		return fmt.Errorf("admin_token must be at least 16 characters without spaces (leave it unset and up makes one)")
	}
	for name, u := range map[string]string{"platform_url": c.PlatformURL, "hostapp_url": c.HostappURL, "miniapp_url": c.MiniappURL, "auth_code_url": c.AuthCodeURL} {
		if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return fmt.Errorf("%s %q must start with http:// or https://", name, u)
		}
	}
	if _, err := cors.Parse(c.CORSOrigins); err != nil {
		return err
	}
	if m := strings.ToUpper(c.UserDataMethod); m != "" && m != "GET" && m != "POST" {
		return fmt.Errorf("user_data_method %q: use GET or POST (POST sends the body {})", c.UserDataMethod)
	}
	if _, err := parseRequiredFields(c.RequiredFields); err != nil {
		return err
	}
	return nil
}

// parseRequiredFields reads the required_fields setting: nil for "" (keep the Dashboard's),
// an empty slice for "none".
func parseRequiredFields(v string) ([]string, error) {
	v = strings.TrimSpace(v)
	switch v {
	case "":
		return nil, nil
	case "none":
		return []string{}, nil
	}
	fields := []string{}
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !contract.IsUserField(f) {
			return nil, fmt.Errorf("required_fields: %q is not a user field; use some of %s, or none", f, strings.Join(contract.UserFields, ", "))
		}
		if !slices.Contains(fields, f) {
			fields = append(fields, f)
		}
	}
	return fields, nil
}

// corsPolicy is the cors_origins setting as the parties take it; validate has checked it.
func (c Config) corsPolicy() *cors.Policy {
	p, _ := cors.Parse(c.CORSOrigins)
	return p
}

func (c Config) addr(port int) string { return c.Bind + ":" + strconv.Itoa(port) }

// localURL is where a party of a local `up` with this configuration answers.
func (c Config) localURL(port int) string {
	host := c.Bind
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return "http://" + host + ":" + strconv.Itoa(port)
}

// printConfig writes the effective configuration as YAML, each key with its source, secrets
// masked.
func printConfig(w io.Writer, cfg Config, src source) {
	for _, s := range settings {
		v := s.get(&cfg)
		switch {
		case s.secret:
			v = yamlScalar(contract.Mask(v))
		case !s.raw:
			v = yamlScalar(v)
		}
		fmt.Fprintf(w, "%s: %s  # %s\n", s.key, v, src[s.key])
	}
}

// configSetting is one key of config print --json.
type configSetting struct {
	Key    string `json:"key"`
	Value  any    `json:"value"` // a number or a boolean where the key takes one, else text
	Source string `json:"source"`
	Env    string `json:"env"`
	Secret bool   `json:"secret,omitempty"`
}

// configJSON is the effective configuration as config print --json shows it, in the order
// of the text form, secrets masked.
func configJSON(cfg Config, src source) map[string][]configSetting {
	out := []configSetting{}
	for _, s := range settings {
		var v any = s.get(&cfg)
		if s.secret {
			v = contract.Mask(s.get(&cfg))
		} else if s.raw {
			if n, err := strconv.Atoi(s.get(&cfg)); err == nil {
				v = n
			} else if b, err := strconv.ParseBool(s.get(&cfg)); err == nil {
				v = b
			}
		}
		out = append(out, configSetting{Key: s.key, Value: v, Source: src[s.key], Env: s.env(), Secret: s.secret})
	}
	return map[string][]configSetting{"settings": out}
}

func yamlScalar(v string) string {
	if v == "" {
		return `""`
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return strconv.Quote(v)
	}
	return strings.TrimSpace(string(b))
}

// must returns v of a call whose error validate has already ruled out.
func must[T any](v T, _ error) T { return v }
