package bundle

import "fmt"

// CorruptError reports that a bundle is not well formed or does not match
// its manifest (S6). Errors of the underlying reader are not CorruptErrors:
// a dropped connection says nothing about the bundle.
type CorruptError struct {
	Reason string
}

func (e *CorruptError) Error() string { return "corrupt image bundle: " + e.Reason }

func corruptf(format string, args ...any) *CorruptError {
	return &CorruptError{Reason: fmt.Sprintf(format, args...)}
}
