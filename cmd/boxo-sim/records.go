package main

// What the record commands (users, clients, dashboard) share: one description per kind of
// record, and the list, get, put and delete commands built from it over the parties' /_sim/
// routes. Their output is the route's JSON with --json, else a table (list) or one line per
// field (get).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/boxo-sim/boxo-sim/internal/admin"
)

// recordKind describes one kind of record behind a /_sim/ route.
type recordKind struct {
	name    string   // what the user reads: "user", "host app"
	party   string   // the party serving the route
	path    string   // the collection, e.g. /_sim/users; a record is at path/{key}[/{key2}]
	listKey string   // the key of the list in GET path's answer
	keys    []string // the answer's fields that name a record, one per path segment
	columns []string // the fields list shows, in order
	// readOnly are answer fields a PUT does not take: a --file made by 'get --json' drops them.
	readOnly []string
	// secrets are the fields the route masks (GET ?secrets=show shows them); a masked value
	// in a --file is dropped, keeping the stored secret.
	secrets []string
	// replaces: the route's PUT replaces every field, so put reads the record first and
	// sends it back with the changes, keeping what was not given.
	replaces bool
	fields   []recordField // the flags of put/set
	// cmdPath is the group's command line, sample names a record and putExample shows a
	// put or set, for the help's examples.
	cmdPath, sample, putExample string
}

// recordField is a flag of put/set and the field of the PUT body it sets.
type recordField struct {
	flag, key, usage string
	kind             fieldKind
}

type fieldKind int

const (
	fieldString fieldKind = iota
	fieldSecret           // a string that must not be a masked value
	fieldBool
	fieldList       // comma-separated or repeated; "" empties the list
	fieldJSONObject // a JSON object
	fieldLinks      // repeated TITLE=URL, as [{"title","url"}]
)

// argNames is the usage of a record's key arguments: CLIENT_ID APP_ID.
func (k recordKind) argNames() string {
	names := make([]string, len(k.keys))
	for i, key := range k.keys {
		names[i] = strings.ToUpper(key)
	}
	return strings.Join(names, " ")
}

// recordPath is the route of the record named by args.
func (k recordKind) recordPath(args []string) string {
	p := k.path
	for _, a := range args {
		p += "/" + url.PathEscape(a)
	}
	return p
}

// exactKeys checks that the arguments are the record's keys, no more, no fewer.
func (k recordKind) exactKeys(cmd *cobra.Command, args []string) error {
	if len(args) != len(k.keys) {
		return fmt.Errorf("'%s' takes %s, the %s's %s; got %d %s\nRun '%s --help' for usage",
			cmd.CommandPath(), k.argNames(), k.name, strings.Join(k.keys, " and "), len(args), pluralOf(len(args), "argument", "arguments"), cmd.CommandPath())
	}
	return nil
}

// what names the record of args for messages: user "bob", partnership "352131" "app16973".
func (k recordKind) what(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = fmt.Sprintf("%q", a)
	}
	return k.name + " " + strings.Join(q, " ")
}

// adminAPI reaches the /_sim/ routes of the stack a command acts on.
type adminAPI struct {
	ps simParties
}

// newAdminAPI finds the stack through the flags that locate it. A record command passes its
// inherited flags (the group's and the root's): its own share names with configuration keys.
func newAdminAPI(ctx context.Context, flags *pflag.FlagSet, e *env) (adminAPI, error) {
	ps, err := simPartiesOf(ctx, flags, e)
	if err != nil {
		return adminAPI{}, err
	}
	return adminAPI{ps: ps}, nil
}

// missingError says that the record asked for does not exist: the command failed (exit 1),
// as a lookup that finds nothing does.
type missingError struct{ what, party, url string }

func (missingError) failed() bool { return true }

func (e missingError) Error() string {
	return fmt.Sprintf("%s does not exist (the %s at %s)", e.what, e.party, e.url)
}

// call sends one request to a party's /_sim/ route and returns the answer's body. Failures
// are classified for the exit status: the stack not found, not answering, or refusing the
// admin token is a setup error (2), and so is a refusal of the values sent, named by its
// code and message; a missing record says that it does not exist (1).
func (a adminAPI) call(ctx context.Context, party, method, path string, body any, what string) (json.RawMessage, error) {
	var out json.RawMessage
	err := a.ps.do(ctx, party, method, path, body, &out)
	var (
		refused refusalError
		re      relayedError
	)
	switch {
	case err == nil:
		return out, nil
	case errors.As(err, &refused) && refused.status == http.StatusNotFound && refused.code == "not_found":
		return nil, missingError{what: what, party: refused.party, url: refused.url}
	case errors.As(err, &refused) && refused.status == http.StatusUnauthorized:
		return nil, err
	case errors.As(err, &refused):
		msg := fmt.Sprintf("the %s at %s refused %s %s: %s", refused.party, refused.url, method, path, refused.code)
		if refused.message != "" {
			msg += ": " + refused.message
		}
		return nil, errors.New(msg)
	case errors.As(err, &re):
		return nil, fmt.Errorf("the %s at %s is a real backend the platform relays to, not a party boxo-sim simulates: it has no /_sim/ routes; change its records in your own system", re.party, re.url)
	}
	// The rest (not running, not located, the token refused) is an error of the setup, which
	// run reports with exit 2; returned, not printed, so a caller that can do without the
	// answer says nothing of it.
	return nil, err
}

// request sends one request of a record command to the kind's party (adminAPI.call), on the
// stack the command's inherited flags locate.
func (k recordKind) request(cmd *cobra.Command, e *env, method, path string, body any, what string) (json.RawMessage, error) {
	a, err := newAdminAPI(cmd.Context(), cmd.InheritedFlags(), e)
	if err != nil {
		return nil, err
	}
	return a.call(cmd.Context(), k.party, method, path, body, what)
}

// secretsQuery is the query that shows the kind's secrets when show is set.
func (k recordKind) secretsQuery(show bool) string {
	if show && len(k.secrets) > 0 {
		return "?" + admin.ShowSecretsQuery
	}
	return ""
}

// newRecordCmds returns the list, get, put (or set) and delete commands of a kind.
func newRecordCmds(e *env, k recordKind, putVerb string) []*cobra.Command {
	return []*cobra.Command{newRecordListCmd(e, k), newRecordGetCmd(e, k), newRecordPutCmd(e, k, putVerb), newRecordDeleteCmd(e, k)}
}

func newRecordListCmd(e *env, k recordKind) *cobra.Command {
	var asJSON, show bool
	c := &cobra.Command{
		Use:     "list",
		Short:   "List every " + k.name,
		Example: fmt.Sprintf("  %[1]s list\n  %[1]s list --json", k.cmdPath) + k.showExample(" list"),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := k.request(cmd, e, http.MethodGet, k.path+k.secretsQuery(show), nil, "the list of "+k.name+"s")
			if err != nil {
				return err
			}
			if asJSON {
				return writeIndented(e.stdout, raw)
			}
			var list map[string][]json.RawMessage
			if err := json.Unmarshal(raw, &list); err != nil {
				return fmt.Errorf("the %s answered a list that is not the expected JSON: %v", k.party, err)
			}
			if len(list[k.listKey]) == 0 {
				fmt.Fprintf(e.stdout, "No %ss.\n", k.name)
				return nil
			}
			return printRecordTable(e.stdout, k.columns, list[k.listKey])
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, fmt.Sprintf(`print the party's answer, {"%s": [...]}, as JSON`, k.listKey))
	addShowSecrets(c, k, &show)
	return c
}

// showExample is the example line of --show-secrets for a kind with secrets.
func (k recordKind) showExample(cmd string) string {
	if len(k.secrets) == 0 {
		return ""
	}
	return fmt.Sprintf("\n  %s%s --show-secrets", k.cmdPath, cmd)
}

func addShowSecrets(c *cobra.Command, k recordKind, show *bool) {
	if len(k.secrets) > 0 {
		c.Flags().BoolVar(show, "show-secrets", false, "show "+strings.Join(k.secrets, " and ")+" as stored (masked by default)")
	}
}

func newRecordGetCmd(e *env, k recordKind) *cobra.Command {
	var asJSON, show bool
	c := &cobra.Command{
		Use:               "get " + k.argNames(),
		Short:             "Print one " + k.name,
		Example:           fmt.Sprintf("  %[1]s get %[2]s\n  %[1]s get %[2]s --json", k.cmdPath, k.sample) + k.showExample(" get "+k.sample),
		Args:              k.exactKeys,
		ValidArgsFunction: completeRecordKeys(e, k),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := k.request(cmd, e, http.MethodGet, k.recordPath(args)+k.secretsQuery(show), nil, k.what(args))
			if err != nil {
				return err
			}
			if asJSON {
				return writeIndented(e.stdout, raw)
			}
			return printRecord(e.stdout, raw)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the party's answer as JSON")
	addShowSecrets(c, k, &show)
	return c
}

func newRecordDeleteCmd(e *env, k recordKind) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:               "delete " + k.argNames(),
		Short:             "Delete one " + k.name,
		Example:           fmt.Sprintf("  %s delete %s", k.cmdPath, k.sample),
		Args:              k.exactKeys,
		ValidArgsFunction: completeRecordKeys(e, k),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := k.request(cmd, e, http.MethodDelete, k.recordPath(args), nil, k.what(args)); err != nil {
				return err
			}
			if asJSON {
				out := map[string]any{"deleted": true}
				for i, key := range k.keys {
					out[key] = args[i]
				}
				return printIndentedJSON(e.stdout, out)
			}
			fmt.Fprintf(e.stdout, "Deleted %s.\n", k.what(args))
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"deleted": true, ...} as JSON`)
	return c
}

func newRecordPutCmd(e *env, k recordKind, verb string) *cobra.Command {
	var (
		asJSON bool
		file   string
	)
	long := fmt.Sprintf(`Create the %s, or change the fields given of an existing one: the fields not given
keep their stored values, and an empty value ("") empties a field.

--file reads the fields from a JSON object (- for stdin) with the keys 'get --json'
prints, so its output will do; flags win over the file. A masked secret in the file, as
'get' prints it, is left out and the stored one kept. The party checks every value and
refuses a bad one with its reason.`, k.name)
	if k.replaces {
		long += fmt.Sprintf("\n\nThe party's route replaces a whole %s, so %s reads it first and sends it back\nwith the changes.", k.name, verb)
	}
	c := &cobra.Command{
		Use:               verb + " " + k.argNames() + " [flags]",
		Short:             "Create or change one " + k.name,
		Long:              long,
		Example:           k.putExample,
		Args:              k.exactKeys,
		ValidArgsFunction: completeRecordKeys(e, k),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := k.bodyOf(cmd, e, file, args)
			if err != nil {
				return err
			}
			if len(body) == 0 && !k.replaces {
				return fmt.Errorf("nothing to %s: give a field's flag or --file (see '%s --help')", verb, cmd.CommandPath())
			}
			a, err := newAdminAPI(cmd.Context(), cmd.InheritedFlags(), e)
			if err != nil {
				return err
			}
			ctx, path := cmd.Context(), k.recordPath(args)
			created := false
			if k.replaces {
				stored, err := a.call(ctx, k.party, http.MethodGet, path, nil, k.what(args))
				switch {
				case errors.As(err, new(missingError)):
					created = true
				case err != nil:
					return err
				default:
					var old map[string]json.RawMessage
					if err := json.Unmarshal(stored, &old); err != nil {
						return fmt.Errorf("the %s answered a %s that is not the expected JSON: %v", k.party, k.name, err)
					}
					for _, key := range append(slices.Clone(k.readOnly), k.keys...) {
						delete(old, key)
					}
					for key, v := range old {
						if _, given := body[key]; !given {
							body[key] = v
						}
					}
				}
			}
			raw, err := a.call(ctx, k.party, http.MethodPut, path, body, k.what(args))
			if err != nil {
				return err
			}
			if asJSON {
				return writeIndented(e.stdout, raw)
			}
			done := "Saved"
			if created {
				done = "Created"
			}
			fmt.Fprintf(e.stdout, "%s %s:\n", done, k.what(args))
			return printRecord(e.stdout, raw)
		},
	}
	fl := c.Flags()
	for _, f := range k.fields {
		switch f.kind {
		case fieldBool:
			fl.Bool(f.flag, false, f.usage)
		case fieldList:
			fl.StringSlice(f.flag, nil, f.usage+" (comma-separated or repeated; \"\" for none)")
		case fieldLinks:
			fl.StringArray(f.flag, nil, f.usage)
		default:
			fl.String(f.flag, "", f.usage)
		}
	}
	fl.StringVarP(&file, "file", "f", "", "read the fields from this JSON file (- for stdin)")
	fl.BoolVar(&asJSON, "json", false, "print the stored record, as the party answers it, as JSON")
	return c
}

// bodyOf builds a PUT body from --file and the flags given; errors are usage errors.
func (k recordKind) bodyOf(cmd *cobra.Command, e *env, file string, args []string) (map[string]any, error) {
	body := map[string]any{}
	if file != "" {
		fromFile, err := k.readFile(cmd, e, file, args)
		if err != nil {
			return nil, err
		}
		for key, v := range fromFile {
			body[key] = v
		}
	}
	fl := cmd.Flags()
	for _, f := range k.fields {
		if !fl.Changed(f.flag) {
			continue
		}
		v, err := fieldValue(fl, f)
		if err != nil {
			return nil, fmt.Errorf("--%s: %v", f.flag, err)
		}
		body[f.key] = v
	}
	return body, nil
}

func fieldValue(fl *pflag.FlagSet, f recordField) (any, error) {
	switch f.kind {
	case fieldBool:
		return fl.GetBool(f.flag)
	case fieldList:
		list, err := fl.GetStringSlice(f.flag)
		if len(list) == 1 && list[0] == "" {
			list = []string{}
		}
		return list, err
	case fieldLinks:
		given, err := fl.GetStringArray(f.flag)
		links := []map[string]string{}
		for _, g := range given {
			if g == "" {
				continue
			}
			title, u, ok := strings.Cut(g, "=")
			if !ok || title == "" || u == "" {
				return nil, fmt.Errorf("%q: give TITLE=URL, e.g. 'Terms=https://example.com/terms'", g)
			}
			links = append(links, map[string]string{"title": title, "url": u})
		}
		return links, err
	}
	v, err := fl.GetString(f.flag)
	if err != nil {
		return nil, err
	}
	switch f.kind {
	case fieldSecret:
		if maskedValue.MatchString(v) {
			return nil, fmt.Errorf("%q is a masked value as 'get' prints it, not the secret: give the real one", v)
		}
	case fieldJSONObject:
		var obj map[string]any
		if err := json.Unmarshal([]byte(v), &obj); err != nil || obj == nil {
			return nil, fmt.Errorf("%q is not a JSON object, e.g. '{\"tier\":\"gold\"}'", v)
		}
		return json.RawMessage(v), nil
	}
	return v, nil
}

// readFile reads a --file: a JSON object whose key fields, when present, must name the
// record of args. Read-only fields are dropped, and masked secrets (with a note on stderr).
func (k recordKind) readFile(cmd *cobra.Command, e *env, file string, args []string) (map[string]json.RawMessage, error) {
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 16<<20))
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("--file: %v", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, fmt.Errorf("--file %s is not a JSON object of %s fields: %v", file, k.name, err)
	}
	for i, key := range k.keys {
		v, ok := m[key]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) != nil || s != args[i] {
			return nil, fmt.Errorf("--file %s names %s %s, not %q", file, key, v, args[i])
		}
		delete(m, key)
	}
	for _, key := range k.readOnly {
		delete(m, key)
	}
	for _, key := range k.secrets {
		var s string
		if json.Unmarshal(m[key], &s) == nil && maskedValue.MatchString(s) {
			delete(m, key)
			fmt.Fprintf(e.stderr, "Note: %s in --file is masked; the stored one is kept.\n", key)
		}
	}
	return m, nil
}

// writeIndented prints a party's JSON answer indented, one value per line.
func writeIndented(w io.Writer, raw json.RawMessage) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(raw), "", "  "); err != nil {
		return fmt.Errorf("the party answered JSON that cannot be printed: %v", err)
	}
	buf.WriteByte('\n')
	_, err := buf.WriteTo(w)
	return err
}

// recordFields returns a JSON object's fields in the order the party wrote them.
func recordFields(raw json.RawMessage) (keys []string, values map[string]json.RawMessage, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, fmt.Errorf("the party answered %.40q, not a JSON object", raw)
	}
	values = map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys = append(keys, key)
		values[key] = v
	}
	return keys, values, nil
}

// cellText is a JSON value as a table cell: strings bare, lists comma-separated, "-" for
// nothing, objects as compact JSON.
func cellText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return firstSet(s, "-")
	}
	var list []json.RawMessage
	if json.Unmarshal(v, &list) == nil {
		if len(list) == 0 {
			return "-"
		}
		parts := make([]string, len(list))
		for i, x := range list {
			parts[i] = cellText(x)
		}
		return strings.Join(parts, ", ")
	}
	var buf bytes.Buffer
	if len(v) == 0 || json.Compact(&buf, v) != nil || buf.String() == "null" {
		return "-"
	}
	return buf.String()
}

// printRecord prints one record, a field per line in the party's order.
func printRecord(w io.Writer, raw json.RawMessage) error {
	keys, values, err := recordFields(raw)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%s\n", k, cellText(values[k]))
	}
	return tw.Flush()
}

// printRecordTable prints records as a table of the columns given.
func printRecordTable(w io.Writer, columns []string, rows []json.RawMessage) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := make([]string, len(columns))
	for i, c := range columns {
		head[i] = strings.ToUpper(c)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range rows {
		_, values, err := recordFields(r)
		if err != nil {
			return err
		}
		cells := make([]string, len(columns))
		for i, c := range columns {
			cells[i] = cellText(values[c])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// recordGroup makes c a group of the commands subs: run bare, it prints its help.
func recordGroup(c *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	c.Args = cobra.NoArgs
	c.RunE = groupHelp
	c.AddCommand(subs...)
	return c
}

// addStackFlags adds the flags that locate the stack, for every command of a group.
func addStackFlags(c *cobra.Command) {
	c.PersistentFlags().String("hostapp-url", "", "URL of the running host app (default: the one of the stack found)")
	c.PersistentFlags().String("platform-url", "", "URL of the running platform; its host app and miniapp are found through it (default: the up running on --data-dir, else the local one)")
	addAdminTokenFlag(c.PersistentFlags())
}

// completeRecordKeys completes a record's key arguments from the running stack's records:
// the first from the list, the second (a partnership's app_id) among the first's.
func completeRecordKeys(e *env, k recordKind) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) >= len(k.keys) {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, r := range listRecords(cmd.Context(), cmd.InheritedFlags(), e, k) {
			if len(args) == 1 && r[k.keys[0]] != args[0] {
				continue
			}
			if v := r[k.keys[len(args)]]; v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// listRecords lists a kind's records for completion, their string fields only; nothing
// when the stack cannot be reached. flags locate the stack.
func listRecords(ctx context.Context, flags *pflag.FlagSet, e *env, k recordKind) []map[string]string {
	a, err := newAdminAPI(ctx, flags, e)
	if err != nil {
		return nil
	}
	raw, err := a.call(ctx, k.party, http.MethodGet, k.path, nil, k.name+"s")
	if err != nil {
		return nil
	}
	var list map[string][]map[string]any
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var out []map[string]string
	for _, r := range list[k.listKey] {
		row := map[string]string{}
		for key, v := range r {
			if s, ok := v.(string); ok {
				row[key] = s
			}
		}
		out = append(out, row)
	}
	return out
}

// completeFlagFrom completes a flag's value with the key field of a kind's records, for a
// command whose own flags locate the stack.
func completeFlagFrom(e *env, k recordKind) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, r := range listRecords(cmd.Context(), cmd.Flags(), e, k) {
			out = append(out, r[k.keys[0]])
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
