package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kuzzlews/kuzzlews/bench/load"
)

// CentrifugoVersion is the Centrifugo release compared.
const CentrifugoVersion = "v6.9.1"

// target is how to run one server.
type target struct {
	name  string
	proto load.Proto
	path  string
	// argv returns the command for the server on host:port, pprofAddr ("" when unused), and a
	// working directory ("" for the current one).
	argv func(port int, pprofAddr string) ([]string, string, error)
	// hasPprof: the server serves net/http/pprof at pprofAddr.
	hasPprof bool
	// goRuntime: GOMAXPROCS applies.
	goRuntime bool
	// scenarios it takes part in; nil means all.
	only []string
}

// env is the state of one Run.
type env struct {
	ctx        context.Context // cancelled: stop after the current step
	cfg        Config
	root       string // module root (directory of go.mod)
	tmp        string
	bins       map[string]string
	mode       string
	nextSrc    int
	nextWorker int
	workerLog  *os.File
}

// ModuleRoot returns the directory of the main module's go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("harness: not inside a Go module")
	}
	return filepath.Dir(mod), nil
}

// RootHasMain reports whether the module's root package github.com/kuzzlews/kuzzlews is a
// main package, i.e. whether kuzzlews can be built from source.
func RootHasMain(root string) bool {
	cmd := exec.Command("go", "list", "-f", "{{.Name}}", "github.com/kuzzlews/kuzzlews")
	cmd.Dir = root
	out, err := cmd.Output()
	return err == nil && strings.TrimSpace(string(out)) == "main"
}

func (e *env) goBuild(name, pkg string) error {
	out := filepath.Join(e.tmp, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = e.root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	e.bins[name] = out
	return nil
}

// prepare builds or installs what the configured targets need.
func (e *env) prepare() error {
	if err := e.goBuild("loadgen", "./bench/cmd/loadgen"); err != nil {
		return err
	}
	for _, t := range e.cfg.Targets {
		var err error
		switch t {
		case "gorilla", "nbio":
			err = e.goBuild(t, "./bench/peers/"+t)
		case "floor1", "floor2":
			if e.bins["floor"] == "" {
				err = e.goBuild("floor", "./bench/cmd/floor")
			}
		case "kuzzlews":
			if e.cfg.KuzzlewsBin != "" {
				e.bins["kuzzlews"] = e.cfg.KuzzlewsBin
			} else if RootHasMain(e.root) {
				err = e.goBuild("kuzzlews", "github.com/kuzzlews/kuzzlews")
			} else {
				err = errors.New("harness: target kuzzlews: the root package is not a main package yet and no KuzzlewsBin is set")
			}
		case "nodews":
			err = e.npmCI()
		case "centrifugo":
			err = e.centrifugo()
		default:
			err = fmt.Errorf("harness: unknown target %q", t)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (e *env) npmCI() error {
	dir := filepath.Join(e.root, "bench", "peers", "nodews")
	if _, err := exec.LookPath("node"); err != nil {
		return errors.New("harness: target nodews needs node on PATH")
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci in %s: %v\n%s", dir, err, b)
	}
	return nil
}

// CentrifugoPath returns where the Centrifugo binary is installed: $XDG_CACHE_HOME (or
// ~/.cache)/kuzzlews-bench/bin/centrifugo.
func CentrifugoPath() string {
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "kuzzlews-bench", "bin", "centrifugo")
}

func (e *env) centrifugo() error {
	bin := e.cfg.CentrifugoBin
	if bin == "" {
		bin = CentrifugoPath()
	}
	if _, err := os.Stat(bin); err != nil {
		e.cfg.logf("installing centrifugo %s into %s (about 5 min cold)", CentrifugoVersion, filepath.Dir(bin))
		cmd := exec.Command("go", "install", "github.com/centrifugal/centrifugo/v6@"+CentrifugoVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+filepath.Dir(bin), "GOFLAGS=-mod=mod")
		cmd.Dir = os.TempDir()
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go install centrifugo: %v\n%s", err, b)
		}
	}
	e.bins["centrifugo"] = bin
	return nil
}

func (e *env) target(name string) *target {
	hostPort := func(port int) []string { return []string{"-host", "127.0.0.1", "-port", strconv.Itoa(port)} }
	switch name {
	case "gorilla", "nbio":
		return &target{name: name, proto: load.Kuzzle, path: "/", hasPprof: true, goRuntime: true,
			argv: func(port int, pp string) ([]string, string, error) {
				return append(append([]string{e.bins[name]}, hostPort(port)...), "-pprof", pp), "", nil
			}}
	case "kuzzlews":
		return &target{name: name, proto: load.Kuzzle, path: "/", hasPprof: e.cfg.KuzzlewsPprofFlag != "", goRuntime: true,
			argv: func(port int, pp string) ([]string, string, error) {
				a := append(append([]string{e.bins[name]}, hostPort(port)...), e.cfg.KuzzlewsArgs...)
				if e.cfg.KuzzlewsPprofFlag != "" {
					a = append(a, e.cfg.KuzzlewsPprofFlag, pp)
				}
				return a, "", nil
			}}
	case "floor1", "floor2":
		return &target{name: name, proto: load.Kuzzle, path: "/", goRuntime: true, only: []string{"fanout", "sustained"},
			argv: func(port int, _ string) ([]string, string, error) {
				return append(append([]string{e.bins["floor"]}, hostPort(port)...), "-threads", name[5:]), "", nil
			}}
	case "nodews":
		return &target{name: name, proto: load.Kuzzle, path: "/",
			argv: func(port int, _ string) ([]string, string, error) {
				return append([]string{"node", "server.js"}, hostPort(port)...), filepath.Join(e.root, "bench", "peers", "nodews"), nil
			}}
	case "centrifugo":
		return &target{name: name, proto: load.Centrifugo, path: "/connection/websocket", hasPprof: true, goRuntime: true,
			argv: func(port int, pp string) ([]string, string, error) {
				cfg := filepath.Join(e.tmp, fmt.Sprintf("centrifugo-%d.json", port))
				_, ppPort, _ := strings.Cut(pp, ":")
				if err := os.WriteFile(cfg, []byte(centrifugoConfig(port, ppPort)), 0o644); err != nil {
					return nil, "", err
				}
				return []string{e.bins["centrifugo"], "--config", cfg}, "", nil
			}}
	}
	return nil
}

// centrifugoConfig is Centrifugo v6's configuration for anonymous pub/sub on loopback, with
// pprof (debug) on the internal port.
func centrifugoConfig(port int, internalPort string) string {
	return fmt.Sprintf(`{
  "http_server": {"address": "127.0.0.1", "port": %d, "internal_address": "127.0.0.1", "internal_port": "%s"},
  "log": {"level": "error"},
  "client": {"allow_anonymous_connect_without_token": true, "allowed_origins": ["*"]},
  "channel": {"without_namespace": {"allow_subscribe_for_anonymous": true, "allow_subscribe_for_client": true,
    "allow_publish_for_anonymous": true, "allow_publish_for_client": true}},
  "debug": {"enabled": true}
}`, port, internalPort)
}
