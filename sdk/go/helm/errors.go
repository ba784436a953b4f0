package helm

import "fmt"

// Error is every failure this package reports: Code is the registered code the TypeScript
// verifier uses for the same failure (ERR_NOT_CANONICAL, ERR_SIGNATURE, ...).
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errf(code, format string, args ...interface{}) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of a *Error, or "" for any other error.
func CodeOf(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Code
	}
	return ""
}
