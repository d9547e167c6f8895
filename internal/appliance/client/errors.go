package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// decodeError turns a non-2xx answer into an *api.Error with Status set.
// A body that is not an API error (a proxy's HTML page, an empty 502) gets
// a generic message and the code that the status implies.
func decodeError(resp *http.Response) *api.Error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var e api.Error
	if json.Unmarshal(data, &e) == nil && e.Code != "" {
		e.Status = resp.StatusCode
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
		return &e
	}
	msg := fmt.Sprintf("the server answered HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		msg = fmt.Sprintf("the server answered with a redirect (HTTP %d) to %q; check the endpoint", resp.StatusCode, resp.Header.Get("Location"))
	}
	return &api.Error{Status: resp.StatusCode, Code: codeForStatus(resp.StatusCode), Message: msg}
}

// codeRedirect marks a 3xx answer, which the API never gives: the endpoint
// is probably a web page or a load balancer's login, not the API.
const codeRedirect = "unexpected_redirect"

func codeForStatus(status int) string {
	if status >= 300 && status < 400 {
		return codeRedirect
	}
	switch status {
	case http.StatusBadRequest:
		return api.CodeInvalidRequest
	case http.StatusUnauthorized, http.StatusForbidden:
		return api.CodeUnauthorized
	case http.StatusNotFound:
		return api.CodeNotFound
	case http.StatusConflict:
		return api.CodeConflict
	case http.StatusInsufficientStorage:
		return api.CodeDiskFull
	case http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusBadGateway, http.StatusGatewayTimeout:
		return api.CodeUnavailable
	}
	if status >= 500 {
		return api.CodeInternal
	}
	return ""
}

// IsNotFound reports whether err is the API's 404 (or not_found code).
func IsNotFound(err error) bool {
	var e *api.Error
	return errors.As(err, &e) && (e.Status == http.StatusNotFound || e.Code == api.CodeNotFound)
}

// ErrorCode returns the API error code carried by err, or "".
func ErrorCode(err error) string {
	var e *api.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// scrub removes the token from an error's text. An *api.Error keeps its
// type (callers match on its code) with its message and details scrubbed;
// anything else is wrapped so that its text is clean while errors.Is and
// errors.As still see through it.
func (c *Client) scrub(err error) error {
	if err == nil || c.token == "" {
		return err
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		ae.Message = redact(ae.Message, c.token)
		for k, v := range ae.Details {
			if s, ok := v.(string); ok {
				ae.Details[k] = redact(s, c.token)
			}
		}
	}
	if !strings.Contains(err.Error(), c.token) {
		return err
	}
	return &scrubbedError{msg: redact(err.Error(), c.token), err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// redact replaces every occurrence of secret in s.
func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}
