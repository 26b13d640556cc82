// Package contract holds what every party of Boxo Connect agrees on: header names, error
// codes, the wire types of PROTOCOL.md and the three error forms. It is the one place a
// JSON tag is spelled, so a typo fails here instead of agreeing with itself on both ends.
package contract

import (
	"fmt"
	"strings"
)

// Header names, spelled as PROTOCOL §2.6 asks senders to spell them.
const (
	HeaderMiniappAppID    = "X-Miniapp-App-ID"
	HeaderHostappClientID = "X-Hostapp-Client-ID"
	// HeaderFlowID carries the simulator's correlation id (PROTOCOL §2.10). Real backends
	// ignore it.
	HeaderFlowID = "X-Sim-Flow-Id"
)

// Connect error codes (contract §5.1). Where Boxo publishes a code for a situation
// (docs.boxo.io/host-apps/ErrorCodes), boxo-sim uses Boxo's code; its own codes remain only
// where Boxo publishes none, and Catalogue marks them.
const (
	CodeInvalidAuthCode                 = "INVALID_AUTH_CODE"
	CodeExpiredAuthCode                 = "EXPIRED_AUTH_CODE"
	CodeInvalidAccessToken              = "INVALID_ACCESS_TOKEN"
	CodeExpiredAccessToken              = "EXPIRED_ACCESS_TOKEN"
	CodeInvalidUserData                 = "INVALID_USER_DATA"
	CodeAccessDenied                    = "ACCESS_DENIED"
	CodeMissingHeader                   = "MISSING_HEADER"
	CodeHostappUserNotFound             = "HOSTAPP_USER_NOT_FOUND"
	CodeHostappUserIDRequired           = "HOSTAPP_USER_ID_REQUIRED"
	CodeInvalidRefreshToken             = "INVALID_REFRESH_TOKEN"
	CodeHostappNotFound                 = "HOSTAPP_NOT_FOUND"
	CodeMiniappNotFound                 = "MINIAPP_NOT_FOUND"
	CodeNoIntegration                   = "NO_INTEGRATION"
	CodeFeatureDisabledInHostapp        = "FEATURE_DISABLED_IN_HOSTAPP"
	CodeFeatureDisabledInIntegration    = "FEATURE_DISABLED_IN_INTEGRATION"
	CodeEndpointURLNotSet               = "ENDPOINT_URL_NOT_SET"
	CodeParsingErrorInvalidRequestBody  = "PARSING_ERROR_INVALID_REQUEST_BODY"
	CodeInvalidRequest                  = "INVALID_REQUEST"
	CodeResponseAttributeMissing        = "RESPONSE_ATTRIBUTE_MISSING"
	CodeFailedToParseResponse           = "FAILED_TO_PARSE_RESPONSE"
	CodeInvalidResponseContentType      = "INVALID_RESPONSE_CONTENT_TYPE"
	CodeUnexpectedResponseError         = "UNEXPECTED_RESPONSE_ERROR"
	CodeNotAWhitelistedIP               = "NOT_A_WHITELISTED_IP"
	CodeInvalidSignature                = "INVALID_SIGNATURE"
	CodeSignatureValidationError        = "SIGNATURE_VALIDATION_ERROR"
	CodeMissingRequestSignatureSettings = "MISSING_REQUEST_SIGNATURE_SETTINGS"
	CodeUnknownError                    = "UNKNOWN_ERROR"
)

// Earlier boxo-sim names of the Go constants, kept so code written against them still
// builds. Each now holds Boxo's code for the situation.
const (
	// Deprecated: use CodeAccessDenied.
	CodeInvalidCredentials = CodeAccessDenied
	// Deprecated: use CodeHostappUserNotFound.
	CodeUserNotFound = CodeHostappUserNotFound
	// Deprecated: use CodeResponseAttributeMissing.
	CodeMissingRequiredFields = CodeResponseAttributeMissing
	// Deprecated: use CodeHostappNotFound.
	CodeInvalidClient = CodeHostappNotFound
	// Deprecated: use CodeFeatureDisabledInHostapp or CodeFeatureDisabledInIntegration.
	CodeConnectNotEnabled = CodeFeatureDisabledInHostapp
	// Deprecated: use CodeNotAWhitelistedIP.
	CodeIPNotAllowed = CodeNotAWhitelistedIP
	// Deprecated: use CodeUnexpectedResponseError or a more specific response code.
	CodeHostappError = CodeUnexpectedResponseError
	// Deprecated: use CodeUnexpectedResponseError or a more specific response code.
	CodeMiniappError = CodeUnexpectedResponseError
	// Deprecated: use CodeUnknownError.
	CodeInternalError = CodeUnknownError
)

// CodeInfo is one row of the error-code table of contract §5.1.
type CodeInfo struct {
	Code string
	// Message is the platform's error_message for the code; "{name}" marks a value filled
	// in by Message. "" when no text is published.
	Message string
	// Boxo says Boxo publishes the code; false marks a code of boxo-sim's own, used where
	// Boxo publishes none.
	Boxo bool
}

// Catalogue lists every code boxo-sim's parties emit, in the order of contract §5.1's table.
var Catalogue = []CodeInfo{
	{CodeInvalidAuthCode, "Invalid auth code. Please try again.", true},
	{CodeExpiredAuthCode, "Auth code expired. Please try again.", true},
	{CodeInvalidAccessToken, "Invalid access token. Please try again.", true},
	{CodeExpiredAccessToken, "Access token expired. Please try again.", true},
	{CodeInvalidUserData, "Invalid user data. Please try again.", true},
	{CodeAccessDenied, "Access denied.", true},
	{CodeMissingHeader, "Missing required header: {header}.", true},
	{CodeHostappUserNotFound, "Hostapp user with hostapp_user_id: {reference} does not exist.", true},
	{CodeHostappUserIDRequired, "Hostapp user ID/reference is required for {what}.", true},
	{CodeInvalidRefreshToken, "", false},
	{CodeHostappNotFound, "No Hostapp client matches the given query.", true},
	{CodeMiniappNotFound, "No Miniapp matches the given query.", true},
	{CodeNoIntegration, "No accepted integration exist. Do not retry.", true},
	{CodeFeatureDisabledInHostapp, "Feature disabled. Enable {feature} in Hostapp settings.", true},
	{CodeFeatureDisabledInIntegration, "Feature disabled. Enable {feature} in Integration settings.", true},
	{CodeEndpointURLNotSet, "Endpoint URL is not configured for {setting}.", true},
	{CodeParsingErrorInvalidRequestBody, "Failed to parse request body. Ensure it is valid JSON or a stream.", true},
	{CodeInvalidRequest, "", false},
	{CodeResponseAttributeMissing, "Missing response attribute: {field}.", true},
	{CodeFailedToParseResponse, "Failed to parse response. Ensure it is valid JSON.", true},
	{CodeInvalidResponseContentType, "Invalid response content type.", true},
	{CodeUnexpectedResponseError, "Unexpected response from the upstream service. See Dashboard Logs for details.", true},
	{CodeNotAWhitelistedIP, "Not a whitelisted IP address. Please provide IP address in Dashboard.", true},
	{CodeInvalidSignature, "Invalid request signature.", true},
	{CodeSignatureValidationError, "Request signature validation failed.", true},
	{CodeMissingRequestSignatureSettings, "Request signature settings are not configured.", true},
	{CodeUnknownError, "Unknown error. Please try again later.", true},
}

// BoxoOtherCodes are codes of Boxo's published list that boxo-sim never emits (orders,
// payments, plans, features, events; contract §5.1). A backend may answer them.
var BoxoOtherCodes = []string{
	"ORDER_NOT_FOUND", "INVALID_PAYMENT_STATUS", "INVALID_ORDER_DATA", "INVALID_PAYMENT_STATUS_RESPONSE",
	"NOT_IMPLEMENTED", "PROCESS_FAIL", "PLAN_LIMIT_REACHED", "NOT_IMPLEMENTED_FOR_THIS_MINIAPP_CATEGORY",
	"HOSTAPP_INTEGRATION_NOT_SET", "MINIAPP_INTEGRATION_NOT_SET", "INTEGRATION_ENABLED_NOT_SET",
	"HOSTAPP_ENABLED_NOT_SET", "FEATURE_DISABLED_IN_MINIAPP", "DATA_INTEGRITY_ERROR",
	"EVENT_RECEIVER_DISABLED", "INVALID_EVENT_DATA", "EVENT_DELIVERY_FAILED",
}

// Deprecated maps an earlier boxo-sim code to the code that replaces it (contract §5.1).
// Scenario files and `fault set --error-code` accept the old names for one release, with a
// warning; where two codes replace one, the first is the one used.
var Deprecated = map[string][]string{
	"INVALID_CREDENTIALS":     {CodeAccessDenied},
	"USER_NOT_FOUND":          {CodeHostappUserNotFound},
	"MISSING_REQUIRED_FIELDS": {CodeResponseAttributeMissing},
	"INVALID_CLIENT":          {CodeHostappNotFound},
	"CONNECT_NOT_ENABLED":     {CodeFeatureDisabledInHostapp, CodeFeatureDisabledInIntegration},
	"IP_NOT_ALLOWED":          {CodeNotAWhitelistedIP},
	"HOSTAPP_ERROR":           {CodeUnexpectedResponseError},
	"MINIAPP_ERROR":           {CodeUnexpectedResponseError},
	"INTERNAL_ERROR":          {CodeUnknownError},
}

// Codes lists every code of Catalogue, in its order.
var Codes = func() []string {
	out := make([]string, len(Catalogue))
	for i, c := range Catalogue {
		out[i] = c.Code
	}
	return out
}()

// Info returns the catalogue row of code.
func Info(code string) (CodeInfo, bool) {
	for _, c := range Catalogue {
		if c.Code == code {
			return c, true
		}
	}
	return CodeInfo{}, false
}

// IsKnownCode reports whether boxo-sim emits code (contract §5.1's table).
func IsKnownCode(code string) bool {
	_, ok := Info(code)
	return ok
}

// IsBoxoCode reports whether code is on Boxo's published list, whether or not boxo-sim
// emits it.
func IsBoxoCode(code string) bool {
	if c, ok := Info(code); ok {
		return c.Boxo
	}
	for _, c := range BoxoOtherCodes {
		if c == code {
			return true
		}
	}
	return false
}

// Replacement returns the code that replaces a deprecated one: code itself when it is not
// deprecated, with deprecated false.
func Replacement(code string) (replacement string, deprecated bool) {
	if r, ok := Deprecated[code]; ok {
		return r[0], true
	}
	return code, false
}

// DeprecationWarning says which code replaces a deprecated one, "" for any other code.
func DeprecationWarning(code string) string {
	r, ok := Deprecated[code]
	if !ok {
		return ""
	}
	alts := r[0]
	for _, a := range r[1:] {
		alts += " or " + a
	}
	return fmt.Sprintf("error code %s is deprecated: Boxo's code is %s (contract §5.1); the old name is accepted for one release", code, alts)
}

// Message is the platform's error_message for code (contract §5.1) with its placeholders
// filled in order by args; "" when the catalogue has no text for code.
func Message(code string, args ...string) string {
	c, ok := Info(code)
	if !ok || c.Message == "" {
		return ""
	}
	msg := c.Message
	for _, a := range args {
		i := strings.Index(msg, "{")
		j := strings.Index(msg, "}")
		if i < 0 || j < i {
			break
		}
		msg = msg[:i] + a + msg[j+1:]
	}
	return msg
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
