package contract_test

import (
	"errors"
	"net"
	"net/http"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

func TestAsConnectError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = http.Get("http://" + addr + "/healthz?x=1")
	var ce *contract.ConnectError
	if got := contract.AsConnectError(err); !errors.As(got, &ce) || got.Error() != "could not connect to http://"+addr+" (connection refused)" {
		t.Fatalf("AsConnectError(%v) = %v", err, got)
	}
	if !errors.Is(contract.AsConnectError(err), err) {
		t.Error("the ConnectError does not wrap the client's error")
	}
	other := errors.New("EOF")
	if got := contract.AsConnectError(other); got != other {
		t.Errorf("AsConnectError(%v) = %v, want it unchanged", other, got)
	}
}
