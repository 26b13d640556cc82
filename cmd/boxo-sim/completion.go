package main

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/boxo-sim/boxo-sim/internal/check"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/docs"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/internal/stack"
)

// isCompletionRequest reports whether args are a shell asking for completions (cobra's hidden
// __complete commands), the only time the completion functions are needed.
func isCompletionRequest(args []string) bool {
	return len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd)
}

// addCompletions registers the completions of the flag values that can be listed. They go by
// flag name, since a flag name means one thing in every command: a command added later
// completes its --party or --step with nothing to do.
func addCompletions(root *cobra.Command) {
	byName := map[string]cobra.CompletionFunc{
		"party":             fixed(stack.Parties...),
		"only":              commaList(stack.Parties),
		"step":              faultSteps,
		"kind":              fixed(fault.Kinds...),
		"error-code":        errorCodes,
		"log-level":         fixed("debug", "info", "warn", "error"),
		"log-format":        fixed("text", "json"),
		"mode":              fixed("oauth\tthe 16-step Connect flow", "direct\tConnect Direct, 12 steps"),
		"consent":           fixed("allow\tthe user allows at step 4", "deny\tthe user declines at step 4"),
		"user":              demoUsers,
		"app-id":            fixed(demo.AppID + "\tthe demo miniapp"),
		"client-id":         fixed(demo.ClientID + "\tthe demo host app"),
		"hostapp-client-id": fixed(demo.HostappClientID + "\tthe demo host app's Boxo-facing OAuth client"),
		"token-prefix":      fixed(demo.TokenPrefix, "Bearer"),
		"user-data-method":  fixed(http.MethodGet, http.MethodPost+"\twith the body {}"),
		"method":            fixed(http.MethodPost, http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete),
		"required-fields":   commaList(append(slices.Clone(contract.UserFields), "none")),
		"plan":              checkPlans,
		"config":            files("yaml", "yml"),
		"data-dir":          dirs,
	}
	walkCommands(root, func(c *cobra.Command) {
		visit := func(f *pflag.Flag) {
			if fn, ok := byName[f.Name]; ok {
				_ = c.RegisterFlagCompletionFunc(f.Name, fn)
			}
		}
		c.LocalNonPersistentFlags().VisitAll(visit)
		c.PersistentFlags().VisitAll(visit)
	})
	if set, _, err := root.Find([]string{"fault", "set"}); err == nil && set.Name() == "set" {
		_ = set.RegisterFlagCompletionFunc("body", fixed(fault.MalformedBodies...))
	}
	if c, _, err := root.Find([]string{"contract"}); err == nil && c.Name() == "contract" {
		c.ValidArgsFunction = contractSections
	}
}

// fixed completes one of values ("value\tdescription").
func fixed(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

// commaList completes a comma-separated list of values, each once.
func commaList(values []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		i := strings.LastIndex(toComplete, ",")
		done, prefix := strings.Split(toComplete[:i+1], ","), toComplete[:i+1]
		var out []string
		for _, v := range values {
			if !slices.Contains(done, v) {
				out = append(out, prefix+v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

func faultSteps(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(fault.Steps)) {
		t := fault.Steps[n]
		out = append(out, strconv.Itoa(n)+"\t"+t.Party+" "+t.Endpoint)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// errorCodes completes the codes of contract §5.1: boxo-sim's, then the rest of Boxo's list.
func errorCodes(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, c := range contract.Catalogue {
		out = append(out, c.Code+"\t"+c.Message)
	}
	out = append(out, contract.BoxoOtherCodes...)
	return out, cobra.ShellCompDirectiveNoFileComp
}

func demoUsers(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, u := range demo.Users {
		out = append(out, u.Username+"\tdemo user")
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// checkPlans completes --plan with the plans of the check command it belongs to.
func checkPlans(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	switch cmd.Name() {
	case "miniapp":
		return check.MiniappPlans, cobra.ShellCompDirectiveNoFileComp
	case "hostapp":
		return check.HostappPlans, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

func files(exts ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(exts, cobra.ShellCompDirectiveFilterFileExt)
}

func dirs(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// contractSections completes contract's SECTION with the section numbers and titles.
func contractSections(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	titles := docs.Titles()
	var out []string
	for i, n := range docs.Sections() { // the same headings, in the same order
		_, title, _ := strings.Cut(strings.TrimSpace(titles[i]), " ")
		out = append(out, n+"\t"+title)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
