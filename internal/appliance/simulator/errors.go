package simulator

import (
	"fmt"
	"net/http"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// apiError builds the error answer of a request.
func apiError(status int, code, format string, args ...any) *api.Error {
	return &api.Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *api.Error {
	return apiError(http.StatusNotFound, api.CodeNotFound, format, args...)
}

func conflict(format string, args ...any) *api.Error {
	return apiError(http.StatusConflict, api.CodeConflict, format, args...)
}

func unprocessable(code, format string, args ...any) *api.Error {
	return apiError(http.StatusUnprocessableEntity, code, format, args...)
}

func badRequest(format string, args ...any) *api.Error {
	return apiError(http.StatusBadRequest, api.CodeInvalidRequest, format, args...)
}
