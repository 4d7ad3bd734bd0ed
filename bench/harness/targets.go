package harness

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/mod/modfile"

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
	// scenarios it takes part in; nil means all the unfiltered ones, plus the filtered
	// ones when filters is set.
	only []string
	// filters: the target speaks Koncorde filters (subscribe with a body, unsubscribe).
	filters bool
}

// filteredScenarios are the scenarios that need Koncorde filters.
var filteredScenarios = []string{"targeted", "mixed", "churn", "subsmem"}

// runs reports whether t takes part in scenario sc.
func (t *target) runs(sc string) bool {
	if t.only != nil {
		return has(t.only, sc)
	}
	return t.filters || !has(filteredScenarios, sc)
}

// env is the state of one Run.
type env struct {
	ctx        context.Context // cancelled: stop after the current step
	cfg        Config
	roots      Roots
	tmp        string
	bins       map[string]string
	mode       string
	nextSrc    int
	nextWorker int
	workerLog  *os.File
	// logDir receives the servers' logs ("" means tmp).
	logDir string
}

// The two Go modules of the repository: the server at the root and this benchmark in bench/.
const (
	RepoModule  = "github.com/kuzzlews/kuzzlews"
	BenchModule = "github.com/kuzzlews/kuzzlews/bench"
)

// Roots are the two module directories the harness builds from.
type Roots struct {
	// Repo is the repository root: the directory of the go.mod of RepoModule, where kuzzlews
	// is built from.
	Repo string
	// Bench is the directory of the go.mod of BenchModule (Repo/bench): the load generator,
	// the peers and the floor are built there.
	Bench string
}

// FindRoots walks up from the working directory to the first go.mod. It must be RepoModule's
// or BenchModule's; the other module is then Repo/bench or the parent of Bench, and its go.mod
// must name it. It fails with the paths it saw otherwise (e.g. run outside the repository).
func FindRoots() (Roots, error) {
	wd, err := os.Getwd()
	if err != nil {
		return Roots{}, err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		mod, err := modulePath(dir)
		if err == nil {
			var r Roots
			switch mod {
			case RepoModule:
				r = Roots{Repo: dir, Bench: filepath.Join(dir, "bench")}
			case BenchModule:
				r = Roots{Repo: filepath.Dir(dir), Bench: dir}
			default:
				return Roots{}, fmt.Errorf("harness: %s/go.mod is module %q, not %s or %s: run from the kuzzlews repository", dir, mod, RepoModule, BenchModule)
			}
			if m, err := modulePath(r.Repo); err != nil || m != RepoModule {
				return Roots{}, fmt.Errorf("harness: %s/go.mod should be module %s (found %q, %v)", r.Repo, RepoModule, m, err)
			}
			if m, err := modulePath(r.Bench); err != nil || m != BenchModule {
				return Roots{}, fmt.Errorf("harness: %s/go.mod should be module %s (found %q, %v)", r.Bench, BenchModule, m, err)
			}
			return r, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return Roots{}, err
		}
		if filepath.Dir(dir) == dir {
			return Roots{}, fmt.Errorf("harness: no go.mod in %s or above: run from the kuzzlews repository", wd)
		}
	}
}

// modulePath returns the module path of dir/go.mod.
func modulePath(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", err
	}
	m := modfile.ModulePath(b)
	if m == "" {
		return "", fmt.Errorf("harness: %s/go.mod has no module line", dir)
	}
	return m, nil
}

// RootHasMain reports whether the package at the repository root (RepoModule) is a main
// package, i.e. whether kuzzlews can be built from source.
func RootHasMain(repo string) bool {
	cmd := exec.Command("go", "list", "-f", "{{.Name}}", ".")
	cmd.Dir = repo
	out, err := cmd.Output()
	return err == nil && strings.TrimSpace(string(out)) == "main"
}

// goBuild builds pkg (a path relative to dir, e.g. "./cmd/loadgen") in dir into the
// temporary directory as name.
func (e *env) goBuild(name, dir, pkg string) error {
	out := filepath.Join(e.tmp, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	e.bins[name] = out
	return nil
}

// prepare builds or installs what the configured targets need.
func (e *env) prepare() error {
	if err := e.goBuild("loadgen", e.roots.Bench, "./cmd/loadgen"); err != nil {
		return err
	}
	for _, t := range e.cfg.Targets {
		var err error
		switch t {
		case "gorilla", "nbio":
			err = e.goBuild(t, e.roots.Bench, "./peers/"+t)
		case "floor1", "floor2":
			if e.bins["floor"] == "" {
				err = e.goBuild("floor", e.roots.Bench, "./cmd/floor")
			}
		case "kuzzlews":
			if e.cfg.KuzzlewsBin != "" {
				e.bins["kuzzlews"] = e.cfg.KuzzlewsBin
			} else if RootHasMain(e.roots.Repo) {
				err = e.goBuild("kuzzlews", e.roots.Repo, ".")
			} else {
				err = errors.New("harness: target kuzzlews: the root package is not a main package yet and no KuzzlewsBin is set")
			}
		case "nodews", "kuzzle-standin":
			err = e.npmCI(e.nodeDir(t))
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

// nodeDir is the directory of a Node.js target: bench/peers/nodews or bench/peers/kuzzle.
func (e *env) nodeDir(name string) string {
	if name == "kuzzle-standin" {
		return filepath.Join(e.roots.Bench, "peers", "kuzzle")
	}
	return filepath.Join(e.roots.Bench, "peers", name)
}

// npmCI installs dir's dependencies from its package-lock.json with npm ci when
// dir/node_modules has not been installed yet. It fails when node or npm is not on PATH.
// Koncorde's native modules compile on install (node-gyp: python3, make and a C++
// compiler), 5 to 12 minutes cold on a busy 2-core machine.
func (e *env) npmCI(dir string) error {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("harness: %s needs %s on PATH (Node.js 20 or later, with npm)", dir, tool)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err == nil {
		return nil
	}
	e.cfg.logf("npm ci in %s", dir)
	cmd := exec.CommandContext(e.ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	// Build re2 from source instead of waiting on a prebuilt download (no Internet here),
	// and let node-gyp use the installed Node headers when there are some.
	cmd.Env = append(os.Environ(), "RE2_DOWNLOAD_SKIP_PATH=1", "RE2_DOWNLOAD_SKIP_VER=1")
	if _, err := os.Stat("/usr/include/node/node.h"); err == nil && os.Getenv("npm_config_nodedir") == "" {
		cmd.Env = append(cmd.Env, "npm_config_nodedir=/usr")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the harness
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
		return &target{name: name, proto: load.Kuzzle, path: "/", hasPprof: e.cfg.KuzzlewsPprofFlag != "", goRuntime: true, filters: true,
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
				return append([]string{"node", "server.js"}, hostPort(port)...), e.nodeDir(name), nil
			}}
	case "kuzzle-standin":
		return &target{name: name, proto: load.Kuzzle, path: "/", filters: true, only: filteredScenarios,
			argv: func(port int, _ string) ([]string, string, error) {
				return append([]string{"node", "server.js"}, hostPort(port)...), e.nodeDir(name), nil
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
