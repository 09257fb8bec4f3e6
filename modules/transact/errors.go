package transact

import "fmt"

// Stable error codes, sent in the response's errorCode beside HandStack's
// exceptionText (documented in docs/transact.md).
const (
	CodeBadRequest       = "TX_BAD_REQUEST"        // HTTP 400: body is not a TransactionRequest
	CodeTooLarge         = "TX_TOO_LARGE"          // HTTP 413: body over MaxRequestBytes
	CodeForbidden        = "TX_FORBIDDEN"          // HTTP 403: metadata endpoint refused
	CodeNotFound         = "TX_NOT_FOUND"          // HTTP 404: metadata lookup found nothing
	CodeInvalidMessage   = "TX_INVALID_MESSAGE"    // envelope fields missing or wrong
	CodeLimit            = "TX_LIMIT"              // too many routes or input rows
	CodeAppDenied        = "TX_APP_DENIED"         // AllowRequestTransactions refused app/project
	CodeEnvironment      = "TX_ENVIRONMENT"        // environment missing or not allowed
	CodeDataFormat       = "TX_DATA_FORMAT"        // dataFormat/compression not supported
	CodeContractNotFound = "TX_CONTRACT_NOT_FOUND" // no contract App|Project|Tx
	CodeServiceNotFound  = "TX_SERVICE_NOT_FOUND"  // no service functionID in the contract
	CodeScreenDenied     = "TX_SCREEN_DENIED"      // AccessScreenID / PublicTransactions refused
	CodeUnauthorized     = "TX_UNAUTHORIZED"       // no or bad credentials
	CodeTokenExpired     = "TX_TOKEN_EXPIRED"      // bearer token past ExpiredAt
	CodeInput            = "TX_INPUT"              // inputs do not match the contract
	CodeCommandType      = "TX_COMMAND_TYPE"       // command type not runnable here
	CodeReturnType       = "TX_RETURN_TYPE"        // return type not supported over HTTP
	CodeRouteNotFound    = "TX_ROUTE_NOT_FOUND"    // no RoutingCommandUri entry for the key
	CodeRouteUnavailable = "TX_ROUTE_UNAVAILABLE"  // the target module is not available
	CodeTransport        = "TX_TRANSPORT"          // the target module could not be reached
	CodeModule           = "TX_MODULE"             // the target module answered acknowledge 0
	CodeOutput           = "TX_OUTPUT"             // results do not match the contract outputs
	CodeDummyFile        = "TX_DUMMY_FILE"         // CommandType R file missing or unreadable
	CodeBusy             = "TX_BUSY"               // too many PSH requests running
	CodeInternal         = "TX_INTERNAL"           // unexpected failure (details in the log)
)

// txError is an in-band failure: HandStack's exceptionText for the client,
// a stable code, and a cause that is logged but never sent.
type txError struct {
	code string
	text string
	err  error
}

func (e *txError) Error() string {
	if e.err != nil {
		return e.code + ": " + e.text + ": " + e.err.Error()
	}
	return e.code + ": " + e.text
}

func (e *txError) Unwrap() error { return e.err }

func fail(code, format string, a ...any) *txError {
	return &txError{code: code, text: fmt.Sprintf(format, a...)}
}

func (e *txError) with(err error) *txError {
	e.err = err
	return e
}
