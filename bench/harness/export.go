package harness

// Pieces of the harness that other bench commands (bench/soak) reuse.

// ReadProc reads process pid from /proc: VmRSS, Threads, the entries of /proc/PID/fd and
// utime+stime. Goroutines is -1 (they come from the server's pprof or metrics).
func ReadProc(pid int) (ProcSample, error) { return readProc(pid) }

// DescribeMachine records the machine, the load average now (LoadBefore), the commit of the
// repository at root and cmdline.
func DescribeMachine(root, cmdline string) Machine { return describeMachine(root, cmdline) }

// LoadAvg returns /proc/loadavg as it reads ("1.02 0.88 0.75 2/301 1234").
func LoadAvg() string { return loadAvg() }
