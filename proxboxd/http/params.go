package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/proxbox-go/proxbox/proxboxd/contract"
)

// ParseBool parses a query boolean the way the stage query is read
// (contract.ParseBool).
func ParseBool(v string) (bool, error) { return contract.ParseBool(v) }

// decodeJSON decodes one JSON object body into dst. Bodies are limited by the
// body-limit middleware; errors become 400/413 with a detail.
func decodeJSON(c echo.Context, dst any) error {
	r := c.Request()
	if r.Body == nil {
		return fail(c, http.StatusBadRequest, "request body required")
	}
	body, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
		return fail(c, http.StatusRequestEntityTooLarge, "request body too large")
	}
	if err != nil {
		return fail(c, http.StatusBadRequest, "cannot read request body")
	}
	return decodeJSONBytes(c, body, dst)
}

func decodeJSONBytes(c echo.Context, body []byte, dst any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return fail(c, http.StatusBadRequest, "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return fail(c, http.StatusBadRequest, "malformed JSON body: "+jsonErrText(err))
	}
	if dec.More() {
		return fail(c, http.StatusBadRequest, "malformed JSON body: trailing data")
	}
	return nil
}

func jsonErrText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q must be %s", te.Field, te.Type.String())
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at offset %d", se.Offset)
	}
	return "invalid JSON"
}

// errHandled marks an error response that was already written.
var errHandled = errors.New("handled")

// fail writes a JSON error and returns errHandled, so callers can simply
// `return err`.
func fail(c echo.Context, code int, detail string) error {
	_ = jsonError(c, code, detail)
	return errHandled
}

func pathInt(c echo.Context, name string) (int, error) {
	n, err := strconv.Atoi(c.Param(name))
	if err != nil || n < 0 {
		return 0, fail(c, http.StatusUnprocessableEntity, fmt.Sprintf("path parameter %s must be a non-negative integer", name))
	}
	return n, nil
}
