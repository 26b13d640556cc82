package docs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

func TestSectionsKeepTheirNumbers(t *testing.T) {
	got := Sections()
	var want []string
	for n, subs := range []int{3, 4, 13, 15, 6, 3, 13, 10, 0, 46} {
		want = append(want, strconv.Itoa(n))
		for i := 1; i <= subs; i++ {
			want = append(want, fmt.Sprintf("%d.%d", n, i))
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("sections\n%q\nwant\n%q", got, want)
	}
	text, ok := Section("§9.17")
	if !ok || !strings.HasPrefix(text, "### 9.17 ") || strings.Contains(text, "9.18") {
		t.Errorf("Section(9.17) = %q", text)
	}
	text, ok = Section("5")
	if !ok || !strings.Contains(text, "### 5.1 ") || !strings.Contains(text, "### 5.3 ") || strings.Contains(text, "## 6.") {
		t.Errorf("Section(5) does not hold 5.1 to 5.3 alone")
	}
	if _, ok := Section("5.9"); ok {
		t.Error("Section(5.9) exists")
	}
}

// TestErrorCodeTableIsTheCatalogue: the table of §5.1 lists exactly the codes boxo-sim
// emits, in order, with Boxo's error_message, and marks the codes of boxo-sim's own.
func TestErrorCodeTableIsTheCatalogue(t *testing.T) {
	text, _ := Section("5.1")
	var rows [][]string
	for _, l := range strings.Split(text, "\n") {
		if cells := strings.Split(l, "|"); len(cells) == 7 && strings.HasPrefix(strings.TrimSpace(cells[2]), "`") {
			rows = append(rows, cells)
		}
	}
	if len(rows) != len(contract.Catalogue) {
		t.Fatalf("§5.1 has %d code rows; the catalogue %d", len(rows), len(contract.Catalogue))
	}
	for i, c := range contract.Catalogue {
		code := strings.Trim(strings.TrimSpace(rows[i][2]), "`")
		msg := strings.TrimSpace(rows[i][3])
		own := strings.Contains(rows[i][5], "boxo-sim's own")
		if code != c.Code || own == c.Boxo {
			t.Errorf("row %d: %s (own %t); catalogue %s (Boxo %t)", i+1, code, own, c.Code, c.Boxo)
		}
		if c.Message != "" && msg != c.Message {
			t.Errorf("%s: the table says %q, the platform writes %q", c.Code, msg, c.Message)
		}
	}
	for old := range contract.Deprecated {
		if !strings.Contains(text, "`"+old+"`") {
			t.Errorf("§5.1 does not name the earlier code %s", old)
		}
	}
}

// citation matches a reference to a section of the contract; a section of an RFC is not one.
var citation = regexp.MustCompile(`(RFC \d+ )?§(\d+(?:\.\d+)?)`)

// TestEveryCitationExists walks every string in the module's Go code outside tests, the
// scenario library, the READMEs and the pages the parties serve: each "§x.y" they cite is a section of the contract, and
// none cites PROTOCOL, which users do not have.
func TestEveryCitationExists(t *testing.T) {
	root := "../.."
	have := map[string]bool{}
	for _, s := range Sections() {
		have[s] = true
	}
	n := 0
	check := func(where, s string) {
		if strings.Contains(s, "PROTOCOL §") || strings.Contains(s, "PROTOCOL.md") {
			t.Errorf("%s cites PROTOCOL, a document users do not have; cite the contract: %q", where, s)
		}
		for _, m := range citation.FindAllStringSubmatch(s, -1) {
			if m[1] != "" {
				continue
			}
			n++
			if !have[m[2]] {
				t.Errorf("%s cites §%s, which the contract does not have: %q", where, m[2], s)
			}
		}
	}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		switch {
		case d.IsDir():
		case strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go"):
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(x ast.Node) bool {
				if lit, ok := x.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil {
						check(fset.Position(lit.Pos()).String(), s)
					}
				}
				return true
			})
		case strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, "README.md") || strings.HasSuffix(path, ".schema.json") ||
			strings.HasSuffix(path, ".js") || strings.HasSuffix(path, ".html"):
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i, l := range strings.Split(string(b), "\n") {
				if t := strings.TrimSpace(l); strings.HasPrefix(t, "//") || strings.HasPrefix(t, "/*") || strings.HasPrefix(t, "*") {
					continue // a comment in a page's script is for its developers
				}
				check(fmt.Sprintf("%s:%d", path, i+1), l)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 200 {
		t.Fatalf("found only %d citations: is %s the module root?", n, root)
	}
}
