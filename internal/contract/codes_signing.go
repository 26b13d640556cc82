package contract

// Codes of request signing (PROTOCOL §5.1, §7.8).
const (
	CodeSignatureValidationError        = "SIGNATURE_VALIDATION_ERROR"
	CodeMissingRequestSignatureSettings = "MISSING_REQUEST_SIGNATURE_SETTINGS"
)
