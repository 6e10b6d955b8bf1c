package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"shop/platform/validation"
)

// MaxBodyBytes is the largest request body the services accept.
const MaxBodyBytes = 1 << 20

// DecodeJSON reads exactly one JSON object from the request body into dst.
// Unknown fields, wrong types, trailing data, invalid UTF-8, a wrong content
// type and bodies over MaxBodyBytes are all problems a client can act on: 400, 415 or 413.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) *Problem {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return NewProblem(http.StatusUnsupportedMediaType, "the body must be application/json")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return decodeProblem(err)
	}
	// encoding/json would turn invalid UTF-8 into U+FFFD silently.
	if !utf8.Valid(body) {
		return NewProblem(http.StatusBadRequest, "the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return NewProblem(http.StatusBadRequest, "the body must hold a single JSON object")
	}
	return nil
}

func decodeProblem(err error) *Problem {
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		typeError *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return NewProblem(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", MaxBodyBytes))
	case errors.Is(err, io.EOF):
		return NewProblem(http.StatusBadRequest, "the body is empty; a JSON object is required")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return NewProblem(http.StatusBadRequest, "the body is not valid JSON")
	case errors.As(err, &typeError):
		if typeError.Field == "" {
			return NewProblem(http.StatusBadRequest, "the body must be a JSON object")
		}
		return Invalid(validation.FieldError{Field: typeError.Field, Detail: "must be a " + jsonKind(typeError.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Invalid(validation.FieldError{Field: field, Detail: "unknown field"})
	default:
		return NewProblem(http.StatusBadRequest, "the body could not be read as JSON")
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "list"
	default:
		return "object"
	}
}
