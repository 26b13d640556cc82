package contract

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// codeConsts parses codes.go and returns every constant named Code* with its value and
// whether its doc comment marks it deprecated.
func codeConsts(t *testing.T) (values map[string]string, deprecated map[string]bool) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "codes.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	values, deprecated = map[string]string{}, map[string]bool{}
	refs := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, sp := range g.Specs {
			vs := sp.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "Code") {
					continue
				}
				deprecated[n.Name] = vs.Doc != nil && strings.Contains(vs.Doc.Text(), "Deprecated:")
				switch v := vs.Values[i].(type) {
				case *ast.BasicLit:
					s, err := strconv.Unquote(v.Value)
					if err != nil {
						t.Fatal(err)
					}
					values[n.Name] = s
				case *ast.Ident:
					refs[n.Name] = v.Name
				default:
					t.Fatalf("%s: value is neither a string nor another constant", n.Name)
				}
			}
		}
	}
	for name, ref := range refs {
		v, ok := values[ref]
		if !ok {
			t.Fatalf("%s refers to %s, which is not a string constant", name, ref)
		}
		values[name] = v
	}
	return values, deprecated
}

// TestErrorCodeConstantsAreTheCatalogue walks the error-code constants of this package: each
// holds a code of contract §5.1's table, every row of the table has a constant, and the
// constants that keep an earlier boxo-sim name are marked deprecated and hold the code that
// replaces that name.
func TestErrorCodeConstantsAreTheCatalogue(t *testing.T) {
	values, deprecated := codeConsts(t)
	if len(values) < len(Catalogue) {
		t.Fatalf("found %d Code constants, fewer than the %d catalogue rows", len(values), len(Catalogue))
	}
	held := map[string]bool{}
	for name, v := range values {
		held[v] = true
		info, ok := Info(v)
		if !ok {
			t.Errorf("%s = %q is not in the catalogue of contract §5.1", name, v)
			continue
		}
		if !info.Boxo && deprecated[name] {
			t.Errorf("deprecated %s points at boxo-sim's own code %s", name, v)
		}
	}
	for _, c := range Catalogue {
		if !held[c.Code] {
			t.Errorf("catalogue code %s has no constant", c.Code)
		}
		if c.Boxo && c.Message == "" {
			t.Errorf("Boxo's code %s has no error_message", c.Code)
		}
		if !c.Boxo && IsBoxoCode(c.Code) {
			t.Errorf("%s is marked boxo-sim's own but is on Boxo's list", c.Code)
		}
	}
	// The old names: each is a deprecated constant's former value, and its replacement is a
	// Boxo code.
	for old, repl := range Deprecated {
		if IsKnownCode(old) || IsBoxoCode(old) {
			t.Errorf("deprecated name %s is still in a catalogue", old)
		}
		for _, r := range repl {
			if !IsBoxoCode(r) {
				t.Errorf("%s is replaced by %s, which is not Boxo's", old, r)
			}
		}
	}
	for name, dep := range deprecated {
		if !dep {
			continue
		}
		if _, ok := Deprecated[strings.ToUpper(snake(strings.TrimPrefix(name, "Code")))]; !ok {
			t.Errorf("deprecated constant %s does not name an earlier code of Deprecated", name)
		}
	}
	// Only Boxo's codes and those the table marks as boxo-sim's own are emitted: the two
	// codes of boxo-sim's own are the ones Boxo publishes none for.
	var own []string
	for _, c := range Catalogue {
		if !c.Boxo {
			own = append(own, c.Code)
		}
	}
	if strings.Join(own, ",") != CodeInvalidRefreshToken+","+CodeInvalidRequest {
		t.Errorf("boxo-sim's own codes are %v, want INVALID_REFRESH_TOKEN and INVALID_REQUEST only", own)
	}
}

// snake turns CamelCase into CAMEL_CASE, with an acronym kept whole (IPNotAllowed → IP_NOT_ALLOWED).
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		upper := r >= 'A' && r <= 'Z'
		if i > 0 && upper {
			prevLower := s[i-1] >= 'a' && s[i-1] <= 'z'
			nextLower := i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z'
			if prevLower || (nextLower && s[i-1] >= 'A' && s[i-1] <= 'Z') {
				b.WriteByte('_')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestNoPartyEmitsAnEarlierCodeName walks every Go source file of the module outside tests
// (and checktest, whose backends are broken on purpose): an earlier boxo-sim code name may
// appear as a string only in this package's table of deprecated names, so no party, fault
// or report can emit one.
func TestNoPartyEmitsAnEarlierCodeName(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "checktest") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		n++
		ast.Inspect(f, func(x ast.Node) bool {
			lit, ok := x.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			for old := range Deprecated {
				if strings.Contains(s, old) && !(strings.HasSuffix(path, filepath.Join("contract", "codes.go")) && s == old) &&
					!strings.Contains(s, "HOSTAPP_"+old) {
					t.Errorf("%s: string %q carries the earlier code name %s", fset.Position(lit.Pos()), s, old)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("walked only %d files: is the module root %s?", n, root)
	}
}

func TestMessagesAndDeprecationWarnings(t *testing.T) {
	if got := Message(CodeMissingHeader, HeaderMiniappAppID); got != "Missing required header: X-Miniapp-App-ID." {
		t.Errorf("Message(MISSING_HEADER) = %q", got)
	}
	if got := Message(CodeFeatureDisabledInIntegration, "Connect"); got != "Feature disabled. Enable Connect in Integration settings." {
		t.Errorf("Message(FEATURE_DISABLED_IN_INTEGRATION) = %q", got)
	}
	if got := Message(CodeInvalidRequest); got != "" {
		t.Errorf("INVALID_REQUEST has no published text, got %q", got)
	}
	e := BoxoError(CodeMissingHeader, nil, "X-Hostapp-Client-ID is missing")
	if e.Message != "X-Hostapp-Client-ID is missing" || e.Detail != "" {
		t.Errorf("a message with an unfilled placeholder must not be sent: %+v", e)
	}
	e = BoxoError(CodeNoIntegration, nil, "no partnership of 352131 and app1")
	if e.Message != "No accepted integration exist. Do not retry." || e.Detail != "no partnership of 352131 and app1" {
		t.Errorf("BoxoError(NO_INTEGRATION) = %+v", e)
	}
	if w := DeprecationWarning("INVALID_CREDENTIALS"); !strings.Contains(w, "Boxo's code is ACCESS_DENIED") {
		t.Errorf("warning = %q", w)
	}
	if w := DeprecationWarning(CodeAccessDenied); w != "" {
		t.Errorf("a current code got a warning: %q", w)
	}
	if r, dep := Replacement("HOSTAPP_ERROR"); r != CodeUnexpectedResponseError || !dep {
		t.Errorf("Replacement(HOSTAPP_ERROR) = %s, %t", r, dep)
	}
}
