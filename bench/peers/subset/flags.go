package subset

import (
	"flag"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
)

// Flags are the command-line settings every peer accepts, the same as kuzzlews' own.
type Flags struct {
	// Host and Port are the listen address; Port zero means 7513.
	Host string
	Port int
	// Pprof, when not empty, is a loopback address where net/http/pprof is served; the harness
	// reads goroutine counts there and forces a GC with /debug/pprof/heap?gc=1.
	Pprof string
}

// ParseFlags parses os.Args into Flags.
func ParseFlags() Flags {
	var f Flags
	flag.StringVar(&f.Host, "host", "127.0.0.1", "listen host")
	flag.IntVar(&f.Port, "port", 7513, "listen port")
	flag.StringVar(&f.Pprof, "pprof", "", "serve net/http/pprof on this address (empty: off)")
	flag.Parse()
	return f
}

// Addr returns host:port.
func (f Flags) Addr() string { return net.JoinHostPort(f.Host, strconv.Itoa(f.Port)) }

// StartPprof serves pprof on f.Pprof in the background when it is set.
func (f Flags) StartPprof() {
	if f.Pprof == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	go func() { log.Println(http.ListenAndServe(f.Pprof, mux)) }()
}
