package harness

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Machine describes where and how a run happened.
type Machine struct {
	CPUModel  string `json:"cpuModel"`
	CPUs      int    `json:"cpus"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"goVersion"`
	Node      string `json:"node,omitempty"`
	// LoadBefore and LoadAfter are /proc/loadavg at the start and the end: a busy machine
	// makes absolute times meaningless, only ratios within the run hold.
	LoadBefore  string `json:"loadBefore"`
	LoadAfter   string `json:"loadAfter"`
	CommandLine string `json:"commandLine"`
	Started     string `json:"started"`
	// Commit is the repository's HEAD, with "-dirty" when the work tree has changes.
	Commit string `json:"commit"`
}

func gitCommit(root string) string {
	cmd := exec.Command("git", "rev-parse", "--short", "HEAD")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	st := exec.Command("git", "status", "--porcelain", "--untracked-files=no")
	st.Dir = root
	if b, err := st.Output(); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		c += "-dirty"
	}
	return c
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}

func describeMachine(root, cmdline string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadBefore: loadAvg(),
		CommandLine: cmdline, Started: time.Now().UTC().Format(time.RFC3339), Commit: gitCommit(root)}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("node", "--version").Output(); err == nil {
		m.Node = strings.TrimSpace(string(out))
	}
	return m
}
