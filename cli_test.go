package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{name: "version", args: []string{"-version"}, code: 0, stdout: "kuzzlews " + version + "\n"},
		{name: "stray argument", args: []string{"serve"}, code: 2, stderr: `unexpected argument "serve"`},
		{name: "stray argument after a flag", args: []string{"-port", "0", "x"}, code: 2, stderr: `unexpected argument "x"`},
		{name: "negative size", args: []string{"-max-queued-bytes", "-1"}, code: 2, stderr: "-max-queued-bytes -1: must not be negative"},
		{name: "port out of range", args: []string{"-port", "70000"}, code: 2, stderr: "-port 70000: out of range"},
		{name: "negative duration", args: []string{"-close-timeout", "-1s"}, code: 2, stderr: "-close-timeout -1s: must not be negative"},
		{name: "negative shutdown timeout", args: []string{"-shutdown-timeout", "-1s"}, code: 2, stderr: "-shutdown-timeout"},
		{name: "bad log level", args: []string{"-log-level", "loud"}, code: 2, stderr: "-log-level"},
		{name: "unknown flag", args: []string{"-nope"}, code: 2, stderr: "flag provided but not defined: -nope"},
		{name: "help", args: []string{"-h"}, code: 0, stderr: "-max-json-depth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(tt.args, nil, &out, &errOut, nil); code != tt.code {
				t.Fatalf("exit code %d, want %d (stderr %q)", code, tt.code, errOut.String())
			}
			if !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errOut.String(), tt.stderr) {
				t.Fatalf("stdout %q, stderr %q; want %q and %q", out.String(), errOut.String(), tt.stdout, tt.stderr)
			}
		})
	}
}
