// Package demo holds the seeded demo identities that the three simulated parties must agree
// on: the host app and miniapp as the platform's Dashboard knows them, the Boxo-facing OAuth
// client of the host's authorization server, and the demo users. They are the worked
// examples of PROTOCOL §7.7 and §9.4.
package demo

// The demo host app and miniapp (PROTOCOL §1.2, §7.7, §9.4). ClientID and HostappClientID
// differ on purpose, so an implementation that confuses them fails visibly.
const (
	ClientID        = "352131"           // the host app's id at the platform
	HostappName     = "Demo Super App"   // its name in the Dashboard
	HostappClientID = "hostapp-client-1" // the Boxo-facing OAuth client at the host (PROTOCOL §6.10)
	HostappSecret   = "hostapp-secret-1"
	TokenPrefix     = "Token" // the Dashboard's access token prefix default (PROTOCOL §2.7)

	AppID         = "app16973" // the miniapp's id at the platform
	MiniappName   = "Demo Miniapp"
	MiniappSecret = "miniapp-secret-1"
)

// Default paths of the simulated backends (PROTOCOL §1.4, §3.7, §3.9, §3.11, §6.10, §7.1).
const (
	AccessTokenPath  = "/boxo/connect/access-token"
	UserDataPath     = "/boxo/connect/user-data"
	RefreshTokenPath = "/boxo/connect/refresh-token"
	BoxoCallbackPath = "/boxo/callback" // the Boxo client's redirect URI at the host
	AuthTokenPath    = "/boxo/auth-token"
	MiniappPagePath  = "/"
)

// Default listen addresses (DESIGN.md).
const (
	HostAddr     = "127.0.0.1:8081"
	PlatformAddr = "127.0.0.1:8082"
	MiniappAddr  = "127.0.0.1:8083"
)

// User is a demo user of the host app. CustomAttributes is JSON text, "" for none.
type User struct {
	Username         string
	Password         string
	Reference        string
	Email            string
	Phone            string
	FirstName        string
	LastName         string
	CustomAttributes string
}

// Users are the seeded host users, with different field sets: e-mail only, phone only, and
// every field with custom attributes.
var Users = []User{
	{Username: "alice", Password: "alice-password", Reference: "u-1001", Email: "alice@example.com"},
	{Username: "bob", Password: "bob-password", Reference: "u-1002", Phone: "+6591234567"},
	{Username: "carol", Password: "carol-password", Reference: "u-1003", Email: "carol@example.com",
		Phone: "+6598765432", FirstName: "Carol", LastName: "Tan", CustomAttributes: `{"tier":"gold","locale":"en-SG"}`},
}

// DefaultUser is the user `connect` signs in when none is named.
const DefaultUser = "carol"

// FindUser returns the demo user with that username.
func FindUser(username string) (User, bool) {
	for _, u := range Users {
		if u.Username == username {
			return u, true
		}
	}
	return User{}, false
}
