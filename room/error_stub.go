package room

import (
	"fmt"
	"strings"
)

// TEMPORARY stand-in until the room branch lands (it replaces this file).

type Error struct {
	ID      string
	Code    int
	Status  int
	Message string
	Props   []string
}

func (e *Error) Error() string { return e.Message }

var stubErrors = map[string]struct {
	code, status int
	tmpl         string
}{
	"api.assert.missing_argument":          {33619971, 400, `Missing argument "%s".`},
	"api.assert.invalid_type":              {33619969, 400, `Wrong type for argument "%s" (expected: %s)`},
	"api.process.controller_not_found":     {33685508, 404, `API controller "%s" not found.`},
	"api.process.action_not_found":         {33685509, 404, `API action "%s":"%s" not found`},
	"network.websocket.unexpected_error":   {50528257, 400, `Caught an unexpected WebSocket error: %s`},
	"network.websocket.ratelimit_exceeded": {50528258, 429, `Rejected: too many requests received from that socket`},
	"network.entrypoint.shutting_down":     {50593795, 503, `Rejected: instance is shutting down`},
}

func NewError(id string, props ...string) *Error {
	d := stubErrors[id]
	args := make([]any, len(props))
	for i, p := range props {
		args[i] = p
	}
	msg := d.tmpl
	if strings.Contains(msg, "%s") {
		msg = fmt.Sprintf(d.tmpl, args...)
	}
	return &Error{ID: id, Code: d.code, Status: d.status, Message: msg, Props: props}
}
