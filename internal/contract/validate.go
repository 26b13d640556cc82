package contract

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
)

// MaxIDLen is the longest client_id or app_id, in code points.
const MaxIDLen = 64

// CheckID checks a client_id or app_id as every party takes it: 1 to MaxIDLen printable code
// points, no spaces and none of / ? # % : \ (ids travel in URL paths, and are the user part
// of Basic credentials, PROTOCOL §2.7, split at the first colon). The error says what is
// wrong without naming the field.
func CheckID(v string) error {
	if v == "" {
		return errors.New("is required")
	}
	if Len(v) > MaxIDLen {
		return fmt.Errorf("is longer than %d characters", MaxIDLen)
	}
	for _, c := range v {
		if !unicode.IsPrint(c) || unicode.IsSpace(c) || strings.ContainsRune(`/?#%:\`, c) {
			return errors.New(`must not contain spaces, control characters or any of / ? # % : \`)
		}
	}
	return nil
}

// CheckAllowlist checks an IP allowlist (PROTOCOL §7.6) as every party takes it: each entry
// a CIDR or a bare address, with no empty entry, no comma, and nothing that can never match a
// caller — an IPv4-mapped IPv6 network or address (callers are compared unmapped) or an
// address with a zone. Spaces around an entry are ignored. An empty list is allowed; it
// lets nobody in.
func CheckAllowlist(entries []string) error {
	_, err := NormalizeAllowlist(entries)
	return err
}

// NormalizeAllowlist checks entries as CheckAllowlist does and returns them without the
// spaces around them, as the parties store them.
func NormalizeAllowlist(entries []string) ([]string, error) {
	out := make([]string, 0, len(entries))
	for i, e := range entries {
		e = strings.TrimSpace(e)
		if err := checkAllowlistEntry(i, e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func checkAllowlistEntry(i int, e string) error {
	if e == "" {
		return fmt.Errorf("entry %d is empty: give a CIDR such as 10.0.0.0/8 or an address such as 127.0.0.1", i+1)
	}
	if strings.ContainsAny(e, ", \t") {
		return fmt.Errorf("entry %q: give one CIDR or address per entry, without spaces or commas", e)
	}
	var p netip.Prefix
	if strings.Contains(e, "/") {
		var err error
		if p, err = netip.ParsePrefix(e); err != nil {
			return fmt.Errorf("entry %q is not a valid CIDR (such as 10.0.0.0/8 or ::1/128)", e)
		}
	} else {
		a, err := netip.ParseAddr(e)
		if err != nil {
			return fmt.Errorf("entry %q is neither a CIDR nor an IP address", e)
		}
		if a.Zone() != "" {
			return fmt.Errorf("entry %q has a zone (%%%s), which callers' addresses never carry: leave it out", e, a.Zone())
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		return fmt.Errorf("entry %q is an IPv4-mapped IPv6 network, which never matches: IPv4 callers are compared as IPv4, so write %s",
			e, unmappedHint(p))
	}
	return nil
}

func unmappedHint(p netip.Prefix) string {
	bits := p.Bits() - 96
	if bits < 0 {
		return "an IPv4 CIDR such as 10.0.0.0/8"
	}
	return netip.PrefixFrom(p.Addr().Unmap(), bits).Masked().String()
}
