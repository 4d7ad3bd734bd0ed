package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Precedence: flag, then environment, then file, then default.
func TestConfigPrecedence(t *testing.T) {
	file := writeFile(t, "k.json", `{
		"port": 1111, "max-queued-bytes": 1000, "node": "file-node", "rate-limit": 5,
		"idle-timeout": "90s", "allowed-origins": ["https://a.example.com", "https://b.example.com"],
		"log-format": "json", "drain-delay": "3s"
	}`)
	env := []string{
		"KUZZLEWS_PORT=2222", "KUZZLEWS_MAX_QUEUED_BYTES=2000", "KUZZLEWS_DRAIN_DELAY=", // empty: unset
		"HOME=/root", "OTHER_PORT=1",
	}
	var stderr bytes.Buffer
	cfg, o, code, ok := settings([]string{"-config", file, "-port", "3333"}, env, &stderr)
	if !ok {
		t.Fatalf("settings failed (%d): %s", code, stderr.String())
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"port from the flag", cfg.Port, 3333},
		{"max-queued-bytes from the environment", cfg.MaxQueuedBytes, 2000},
		{"node from the file", cfg.Node, "file-node"},
		{"rate-limit from the file", cfg.RateLimit, 5},
		{"idle-timeout from the file", cfg.IdleTimeout, 90 * time.Second},
		{"allowed-origins from a file array", strings.Join(cfg.AllowedOrigins, " "), "https://a.example.com https://b.example.com"},
		{"log-format from the file", o.logFormat, "json"},
		{"drain-delay from the file (the empty variable is unset)", o.drainDelay, 3 * time.Second},
		{"max-rooms by default", cfg.MaxRooms, DefaultMaxRooms},
		{"shutdown-timeout by default", o.shutdownTimeout, DefaultShutdownTimeout},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}

	// KUZZLEWS_CONFIG names the file when -config is not given.
	cfg, _, _, ok = settings(nil, []string{"KUZZLEWS_CONFIG=" + file}, &stderr)
	if !ok || cfg.Port != 1111 || cfg.MaxQueuedBytes != 1000 {
		t.Fatalf("KUZZLEWS_CONFIG: ok=%v port=%d: %s", ok, cfg.Port, stderr.String())
	}
	// Without any source, the defaults of server.go.
	cfg, o, _, ok = settings(nil, nil, &stderr)
	if !ok || cfg.Port != DefaultPort || cfg.MaxQueuedBytes != DefaultMaxQueuedBytes || o.logLevel != "info" {
		t.Fatalf("defaults: %+v", cfg)
	}
}

// Every refusal stops the start with status 2 and a message naming the culprit.
func TestConfigRefusals(t *testing.T) {
	good := writeFile(t, "good.json", `{"port": 7000}`)
	cases := []struct {
		name string
		args []string
		env  []string
		file string // content of a -config file, when not empty
		want string // in the message
	}{
		{name: "unknown file key", file: `{"prot": 1}`, want: `unknown key "prot"`},
		{name: "flag-only key in the file", file: `{"version": true}`, want: `unknown key "version"`},
		{name: "config key in the file", file: `{"config": "other.json"}`, want: `unknown key "config"`},
		{name: "object value", file: `{"port": {"a": 1}}`, want: `key "port": want a string, a number, a boolean or an array of them, got an object`},
		{name: "null value", file: `{"node": null}`, want: `key "node": want a string`},
		{name: "bad file value", file: `{"port": "abc"}`, want: `key "port": invalid value "abc" for -port`},
		{name: "bad duration in the file", file: `{"idle-timeout": 60}`, want: `key "idle-timeout": invalid value "60" for -idle-timeout`},
		{name: "not JSON", file: `port: 1`, want: "not a JSON object"},
		{name: "not an object", file: `[1]`, want: "not a JSON object"},
		{name: "two values", file: `{} {}`, want: "more than one JSON value"},
		{name: "missing file", args: []string{"-config", "/nonexistent/k.json"}, want: "config file: open /nonexistent/k.json"},
		{name: "unknown variable", env: []string{"KUZZLEWS_NOPE=1"}, want: "environment variable KUZZLEWS_NOPE: no such setting"},
		{name: "misspelt variable", env: []string{"KUZZLEWS_max_conns=1"}, want: "KUZZLEWS_max_conns: no such setting"},
		{name: "flag-only variable", env: []string{"KUZZLEWS_VERSION=true"}, want: "KUZZLEWS_VERSION: no such setting"},
		{name: "bad variable value", env: []string{"KUZZLEWS_PORT=abc"}, want: `environment variable KUZZLEWS_PORT: invalid value "abc" for -port`},
		{name: "negative from the environment", env: []string{"KUZZLEWS_WORKERS=-1"}, want: "-workers -1: must not be negative (from environment variable KUZZLEWS_WORKERS)"},
		{name: "negative from the file", file: `{"drain-delay": "-1s"}`, want: `-drain-delay -1s: must not be negative (from config file`},
		{name: "negative flag", args: []string{"-shutdown-timeout", "-1s"}, want: "-shutdown-timeout -1s: must not be negative (from flag -shutdown-timeout)"},
		{name: "port out of range", env: []string{"KUZZLEWS_PORT=70000"}, want: "-port 70000: out of range (from environment variable KUZZLEWS_PORT)"},
		{name: "bad log format", args: []string{"-log-format", "xml"}, want: "-log-format xml: want text or json (from flag -log-format)"},
		{name: "bad log level", env: []string{"KUZZLEWS_LOG_LEVEL=loud"}, want: "-log-level loud: want debug, info, warn or error (from environment variable KUZZLEWS_LOG_LEVEL)"},
		{name: "stray argument", args: []string{"-port", "1", "extra"}, want: `unexpected argument "extra"`},
		{name: "unknown flag", args: []string{"-no-such-flag"}, want: "flag provided but not defined: -no-such-flag"},
		{name: "bad flag value", args: []string{"-port", "x"}, want: `invalid value "x" for flag -port`},
		{name: "bad variable with a good file", args: []string{"-config", good}, env: []string{"KUZZLEWS_RATE_LIMIT=fast"}, want: "KUZZLEWS_RATE_LIMIT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.file != "" {
				args = append([]string{"-config", writeFile(t, "k.json", tc.file)}, args...)
			}
			var stderr bytes.Buffer
			_, _, code, ok := settings(args, tc.env, &stderr)
			if ok || code != 2 {
				t.Fatalf("ok=%v code=%d, want a refusal with status 2", ok, code)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("message %q does not contain %q", stderr.String(), tc.want)
			}
		})
	}
}

// -h documents what zero (or empty) and negative values do for every flag, and exits 0.
func TestHelpDocumentsZeroAndNegative(t *testing.T) {
	var cfg Config
	var o options
	fs := flags(&cfg, &o, io.Discard)
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "version" {
			return
		}
		switch f.Value.(flag.Getter).Get().(type) {
		case int, time.Duration:
			if !strings.Contains(f.Usage, "(0: ") || !strings.Contains(f.Usage, "negative: ") {
				t.Errorf("-%s: usage %q does not say what 0 and negative values do", f.Name, f.Usage)
			}
		case string:
			if !strings.Contains(f.Usage, "(empty") {
				t.Errorf("-%s: usage %q does not say what an empty value does", f.Name, f.Usage)
			}
		}
	})
	var out bytes.Buffer
	if _, _, code, ok := settings([]string{"-h"}, nil, &out); ok || code != 0 {
		t.Fatalf("-h: ok=%v code=%d, want 0", ok, code)
	}
	for _, want := range []string{"KUZZLEWS_MAX_QUEUED_BYTES", "Precedence: flag, then environment, then file, then default", "-allowed-origins", "-config"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-h lacks %q:\n%s", want, out.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a logger writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// The command warns at start when it listens beyond loopback with every origin allowed
// and no authentication, and only then.
func TestRunWarnsWithoutOriginListBeyondLoopback(t *testing.T) {
	for _, tc := range []struct {
		args []string
		warn bool
	}{
		{[]string{"-host", "0.0.0.0"}, true},
		{[]string{"-host", "0.0.0.0", "-allowed-origins", "https://app.example.com"}, false},
		{[]string{"-host", "127.0.0.1"}, false},
		{[]string{"-host", "::1"}, false},
	} {
		var stderr syncBuffer
		sig := make(chan os.Signal, 1)
		done := make(chan int, 1)
		go func() { done <- run(append(tc.args, "-port", "0"), nil, io.Discard, &stderr, sig) }()
		eventually(t, "the listening log line", func() bool { return strings.Contains(stderr.String(), "msg=listening") })
		sig <- os.Interrupt
		if code := <-done; code != 0 {
			t.Fatalf("%v: exit %d\n%s", tc.args, code, stderr.String())
		}
		if got := strings.Contains(stderr.String(), "listening beyond loopback"); got != tc.warn {
			t.Errorf("%v: warning %v, want %v\n%s", tc.args, got, tc.warn, stderr.String())
		}
		for _, line := range []string{"msg=draining", `msg="shutting down"`, "msg=stopped"} {
			if !strings.Contains(stderr.String(), line) {
				t.Errorf("%v: no %s lifecycle line at info:\n%s", tc.args, line, stderr.String())
			}
		}
	}
}
