package engine

import (
	"fmt"
	"net/http"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// apiError builds the error answer of a request.
func APIError(status int, code, format string, args ...any) *api.Error {
	return &api.Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func NotFound(format string, args ...any) *api.Error {
	return APIError(http.StatusNotFound, api.CodeNotFound, format, args...)
}

func Conflict(format string, args ...any) *api.Error {
	return APIError(http.StatusConflict, api.CodeConflict, format, args...)
}

func Unprocessable(code, format string, args ...any) *api.Error {
	return APIError(http.StatusUnprocessableEntity, code, format, args...)
}

func BadRequest(format string, args ...any) *api.Error {
	return APIError(http.StatusBadRequest, api.CodeInvalidRequest, format, args...)
}
