// Package contract holds what every party of Boxo Connect agrees on: header names, error
// codes, the wire types of PROTOCOL.md and the three error forms. It is the one place a
// JSON tag is spelled, so a typo fails here instead of agreeing with itself on both ends.
package contract

// Header names, spelled as PROTOCOL §2.6 asks senders to spell them.
const (
	HeaderMiniappAppID    = "X-Miniapp-App-ID"
	HeaderHostappClientID = "X-Hostapp-Client-ID"
	// HeaderFlowID carries the simulator's correlation id (PROTOCOL §2.10). Real backends
	// ignore it.
	HeaderFlowID = "X-Sim-Flow-Id"
)

// Connect error codes, PROTOCOL §5.1.
const (
	CodeInvalidAuthCode       = "INVALID_AUTH_CODE"
	CodeInvalidAccessToken    = "INVALID_ACCESS_TOKEN"
	CodeInvalidUserData       = "INVALID_USER_DATA"
	CodeInvalidCredentials    = "INVALID_CREDENTIALS"
	CodeInvalidRefreshToken   = "INVALID_REFRESH_TOKEN"
	CodeUserNotFound          = "USER_NOT_FOUND"
	CodeMissingRequiredFields = "MISSING_REQUIRED_FIELDS"
	CodeInvalidRequest        = "INVALID_REQUEST"
	CodeInvalidClient         = "INVALID_CLIENT"
	CodeMiniappNotFound       = "MINIAPP_NOT_FOUND"
	CodeConnectNotEnabled     = "CONNECT_NOT_ENABLED"
	CodeIPNotAllowed          = "IP_NOT_ALLOWED"
	CodeInvalidSignature      = "INVALID_SIGNATURE"
	CodeHostappError          = "HOSTAPP_ERROR"
	CodeMiniappError          = "MINIAPP_ERROR"
	CodeInternalError         = "INTERNAL_ERROR"
)

// Codes lists every error code of PROTOCOL §5.1 in the order of its table.
var Codes = []string{
	CodeInvalidAuthCode, CodeInvalidAccessToken, CodeInvalidUserData, CodeInvalidCredentials,
	CodeInvalidRefreshToken, CodeUserNotFound, CodeMissingRequiredFields, CodeInvalidRequest,
	CodeInvalidClient, CodeMiniappNotFound, CodeConnectNotEnabled, CodeIPNotAllowed,
	CodeInvalidSignature, CodeSignatureValidationError, CodeMissingRequestSignatureSettings,
	CodeHostappError, CodeMiniappError, CodeInternalError,
}

// IsKnownCode reports whether code is one of PROTOCOL §5.1.
func IsKnownCode(code string) bool {
	for _, c := range Codes {
		if c == code {
			return true
		}
	}
	return false
}

// OAuth error values of the authorization server, PROTOCOL §6.6 and §6.7 (RFC 6749).
const (
	OAuthInvalidRequest          = "invalid_request"
	OAuthInvalidClient           = "invalid_client"
	OAuthInvalidGrant            = "invalid_grant"
	OAuthUnauthorizedClient      = "unauthorized_client"
	OAuthUnsupportedGrantType    = "unsupported_grant_type"
	OAuthAccessDenied            = "access_denied"
	OAuthUnsupportedResponseType = "unsupported_response_type"
	OAuthInvalidScope            = "invalid_scope"
	OAuthServerError             = "server_error"
	OAuthInvalidToken            = "invalid_token"
)

// Bridge-level codes the SDK itself reports to the miniapp (PROTOCOL §4.4), shared by the
// fake SDK and the demo web host app.
const (
	BridgeUserDenied          = "USER_DENIED"
	BridgeNoAuthCode          = "NO_AUTH_CODE"
	BridgePlatformUnavailable = "PLATFORM_UNAVAILABLE"
	BridgeNoAuthToken         = "NO_AUTH_TOKEN"
	BridgeMeFailed            = "ME_FAILED"
)

// Parties, as named in custom_attributes.source and the flow log.
const (
	PartyHostapp  = "hostapp"
	PartyPlatform = "platform"
	PartyMiniapp  = "miniapp"
	PartySDK      = "sdk"
)

// Limits of PROTOCOL §3.8, §3.10 and §3.12 in Unicode code points (§2.9).
const (
	MaxTokenLen     = 1000
	MaxReferenceLen = 100
	// MaxBodyBytes is the most any simulated endpoint reads of a request body.
	MaxBodyBytes = 1 << 20
)
