package contract

import (
	"strings"
	"testing"
)

func TestCheckAllowlist(t *testing.T) {
	good := [][]string{nil, {}, {"127.0.0.0/8", "::1/128"}, {" 10.0.0.1 "}, {"0.0.0.0/0"}, {"2001:db8::/32"}, {"192.168.1.7"}}
	for _, l := range good {
		if err := CheckAllowlist(l); err != nil {
			t.Errorf("%q: %v", l, err)
		}
	}
	bad := map[string][]string{
		"empty":          {""},
		"blank":          {"127.0.0.1", "  "},
		"mapped CIDR":    {"::ffff:10.0.0.0/104"},
		"mapped address": {"::ffff:127.0.0.1"},
		"two in one":     {"10.0.0.1,10.0.0.2"},
		"zone":           {"fe80::1%eth0"},
		"bad CIDR":       {"10.0.0.0/33"},
		"word":           {"localhost"},
	}
	for name, l := range bad {
		if err := CheckAllowlist(l); err == nil {
			t.Errorf("%s %q: accepted", name, l)
		}
	}
	if err := CheckAllowlist([]string{"::ffff:10.0.0.0/104"}); err == nil || !strings.Contains(err.Error(), "10.0.0.0/8") {
		t.Errorf("the mapped CIDR's error does not say what to write: %v", err)
	}
	if got, _ := NormalizeAllowlist([]string{" 10.0.0.1 "}); got[0] != "10.0.0.1" {
		t.Errorf("NormalizeAllowlist kept the spaces: %q", got)
	}
}

func TestCheckID(t *testing.T) {
	for _, id := range []string{"352131", "app16973", "hostapp-client-1", "a.b_c~d"} {
		if err := CheckID(id); err != nil {
			t.Errorf("%q: %v", id, err)
		}
	}
	for _, id := range []string{"", "a b", "a:b", "a/b", "a?b", "a#b", "a%b", `a\b`, "a\x00b", strings.Repeat("x", 65)} {
		if err := CheckID(id); err == nil {
			t.Errorf("%q accepted", id)
		}
	}
}
