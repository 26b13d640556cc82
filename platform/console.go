package platform

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"slices"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/fault"
)

// The console (DESIGN.md "In the browser"): GET / on the platform, one page of html/template
// and plain JavaScript that reads the flow log, the fault tables and the clock through the
// platform's own /_sim/ routes, so everything it calls is same-origin. Deep link to a flow:
// /?flow=ID or /#flow=ID. Its assets are under /_sim/console/.

//go:embed console/console.html console/console.css console/console.js
var consoleFiles embed.FS

var consoleTemplate = template.Must(template.New("console.html").
	Funcs(template.FuncMap{"partyList": partyList}).
	ParseFS(consoleFiles, "console/console.html"))

// consoleParty is one party card of the page.
type consoleParty struct {
	Name, Title, Mode, URL, Note string
}

// partyList is the three parties in the order of the sequence diagram's lanes.
func partyList(st StackInfo) []consoleParty {
	roles := map[string]string{
		contract.PartyHostapp:  "The super app's backend and its OAuth2/OIDC authorization server: steps 6–9.",
		contract.PartyPlatform: "Boxo: the Dashboard, the SDK's endpoints and this flow log: steps 1, 5, 12.",
		contract.PartyMiniapp:  "The miniapp's backend and frontend: steps 10–11 and 14–15.",
	}
	out := []consoleParty{
		{Name: contract.PartyHostapp, Title: "Host app", Mode: st.Hostapp.Mode, URL: st.Hostapp.URL},
		{Name: contract.PartyPlatform, Title: "Platform", Mode: st.Platform.Mode, URL: st.Platform.URL},
		{Name: contract.PartyMiniapp, Title: "Miniapp", Mode: st.Miniapp.Mode, URL: st.Miniapp.URL},
	}
	for i := range out {
		switch out[i].Mode {
		case ModeRelayed:
			out[i].Note = "A backend not started here: the platform calls it and checks every answer against the contract (boxo-sim contract)."
		case ModeUnknown:
			out[i].Note = "Not started in this stack."
		default:
			out[i].Note = roles[out[i].Name]
		}
	}
	return out
}

// consolePolicy keeps the page to its own scripts and origin, and out of other sites' frames.
const consolePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// StepSections maps each of the 16 steps to the contract section that specifies it (§3.2 to
// §3.15); the console names it beside a step that failed.
var StepSections = map[int]string{
	1: "3.2", 2: "3.3", 3: "3.4", 4: "3.5", 5: "3.6", 6: "3.7", 7: "3.8", 8: "3.9",
	9: "3.10", 10: "3.11", 11: "3.12", 12: "3.13", 13: "3.14", 14: "3.15", 15: "3.15", 16: "3.15",
}

// consoleConfig is what the page's script needs to know up front, embedded as JSON.
type consoleConfig struct {
	Stack           StackInfo         `json:"stack"`
	Sections        map[int]string    `json:"sections"`
	CodesSection    string            `json:"codes_section"`
	Codes           []string          `json:"codes"`
	Kinds           []string          `json:"kinds"`
	KindField       map[string]string `json:"kind_field"`
	MalformedBodies []string          `json:"malformed_bodies"`
	FaultSteps      map[string][]int  `json:"fault_steps"` // party → steps served there
}

type consolePage struct {
	Stack  StackInfo
	Config consoleConfig
}

func (s *server) consoleConfig() consoleConfig {
	steps := map[string][]int{}
	for n, t := range fault.Steps {
		steps[t.Party] = append(steps[t.Party], n)
	}
	for _, v := range steps {
		slices.Sort(v)
	}
	return consoleConfig{
		Stack: s.stackInfo(), Sections: StepSections, CodesSection: "5.1",
		Codes: contract.Codes, Kinds: fault.Kinds, KindField: fault.KindField,
		MalformedBodies: fault.MalformedBodies, FaultSteps: steps,
	}
}

// handleConsole is GET /: the console page.
func (s *server) handleConsole() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var buf bytes.Buffer
		if err := consoleTemplate.Execute(&buf, consolePage{Stack: s.stackInfo(), Config: s.consoleConfig()}); err != nil {
			return err
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", consolePolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(buf.Bytes())
		}
		return nil
	}
}

// consoleAssets serves the page's embedded script and style under /_sim/console/; anything
// else there (the HTML template included) is the JSON 404 of every route.
func consoleAssets() http.Handler {
	assets, err := fs.Sub(consoleFiles, "console")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	files := http.StripPrefix("/_sim/console/", http.FileServer(http.FS(assets)))
	served := map[string]bool{"/_sim/console/console.css": true, "/_sim/console/console.js": true}
	notFound := contract.NotFound()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !served[r.URL.Path] {
			notFound.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
