package contract

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddr is the address a party's IP filter judges (PROTOCOL §7.6): the request's peer
// address (RemoteAddr), unless that peer is one of the trusted proxies. Then X-Forwarded-For
// is read from the right, each address a trusted proxy added skipped, and the first address
// no trusted proxy vouches for is the client's. With no trusted proxies X-Forwarded-For is
// ignored, since anyone can send it. An X-Forwarded-For entry that is not an IP address makes
// the answer "", which no filter allows. Several X-Forwarded-For headers count as one list,
// in order.
func ClientAddr(r *http.Request, trusted IPFilter) string {
	peer := r.RemoteAddr
	if len(trusted.prefixes) == 0 || !trusted.Allows(peer) {
		return peer
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for _, a := range strings.Split(h, ",") {
			hops = append(hops, strings.TrimSpace(a))
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.Trim(hops[i], "[]"))
		if err != nil {
			return ""
		}
		addr := net.JoinHostPort(a.String(), "0")
		if !trusted.Allows(addr) {
			return addr
		}
		peer = addr
	}
	return peer // every hop is a trusted proxy: the first of them is the client
}

// Empty reports whether the filter lists no network.
func (f IPFilter) Empty() bool { return len(f.prefixes) == 0 }
