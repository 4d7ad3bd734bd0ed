package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Configuration sources, by precedence: a flag on the command line, then the environment
// (KUZZLEWS_ + the flag name in upper snake case), then the JSON file of -config (keys are
// the flag names), then the flag's default. The standard library is enough here: the flag
// set already knows every setting, its type and its default, so a value from any source
// goes through flag.FlagSet.Set and is parsed exactly as on the command line.

// configError is an error of configure's own (not the flag package's, which prints its
// errors itself).
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func configErrorf(format string, args ...any) error {
	return &configError{fmt.Sprintf(format, args...)}
}

// envPrefix starts the environment variables of kuzzlews settings.
const envPrefix = "KUZZLEWS_"

// flagOnly are the flags that neither the file nor the environment may set. "config" may
// come from the environment (KUZZLEWS_CONFIG), not from the file itself.
var flagOnly = map[string]bool{"version": true}

// secretFlags are the flags whose values error messages never show.
var secretFlags = map[string]bool{"jwt-secret": true}

// envName is the environment variable of flag name: KUZZLEWS_MAX_QUEUED_BYTES for
// max-queued-bytes.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// sources tells where each setting not left at its default came from, for error messages:
// "flag -port", "environment variable KUZZLEWS_PORT", "config file k.json, key \"port\"".
type sources map[string]string

// of returns " (from <source>)" for flag name, or "" when it kept its default.
func (s sources) of(name string) string {
	if src, ok := s[name]; ok {
		return " (from " + src + ")"
	}
	return ""
}

// configure parses args into fs, then fills every flag the command line left unset from
// environ (os.Environ's form) and from the JSON file named by the flag configFlag (or
// its environment variable). Empty environment variables count as unset. It fails on an
// unknown or flag-only KUZZLEWS_ variable, a file that cannot be read or is not a JSON
// object, an unknown key, a value of the wrong JSON type, and a value the flag refuses;
// every message names the variable, the key or the flag. The flag package's own errors
// (unknown flag, bad value) are returned as fs.Parse returns them, already printed.
func configure(fs *flag.FlagSet, args, environ []string, configFlag string) (sources, error) {
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, configErrorf("unexpected argument %q (flags only, or the hash-password command first; see -h)", fs.Arg(0))
	}
	src := sources{}
	fs.Visit(func(f *flag.Flag) { src[f.Name] = "flag -" + f.Name })

	env := map[string]string{}    // flag name -> value
	envVar := map[string]string{} // flag name -> variable name
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, envPrefix) {
			continue
		}
		name := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, envPrefix), "_", "-"))
		if fs.Lookup(name) == nil || flagOnly[name] || envName(name) != k {
			return nil, configErrorf("environment variable %s: no such setting (the variables are %s + a flag name in upper snake case, e.g. %s; see -h)", k, envPrefix, envName("max-queued-bytes"))
		}
		if v != "" {
			env[name], envVar[name] = v, k
		}
	}

	file := map[string]string{}
	path := fs.Lookup(configFlag).Value.String()
	if _, set := src[configFlag]; !set {
		if v, ok := env[configFlag]; ok {
			path = v
			src[configFlag] = "environment variable " + envVar[configFlag]
		}
	}
	if path != "" {
		var err error
		if file, err = readConfigFile(fs, path, configFlag); err != nil {
			return nil, err
		}
	}

	var errs error
	fs.VisitAll(func(f *flag.Flag) {
		if _, set := src[f.Name]; set || errs != nil || f.Name == configFlag {
			return
		}
		v, from := "", ""
		if ev, ok := env[f.Name]; ok {
			v, from = ev, "environment variable "+envVar[f.Name]
		} else if fv, ok := file[f.Name]; ok {
			v, from = fv, fmt.Sprintf("config file %s, key %q", path, f.Name)
		} else {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			if secretFlags[f.Name] {
				errs = configErrorf("%s: invalid value for -%s", from, f.Name)
			} else {
				errs = configErrorf("%s: invalid value %q for -%s: %v", from, v, f.Name, err)
			}
			return
		}
		src[f.Name] = from
	})
	return src, errs
}

// readConfigFile reads a JSON object whose keys are flag names and whose values are
// strings, numbers, booleans, or arrays of strings and numbers (joined with commas, for
// list flags such as allowed-origins), and returns each value as the flag would read it on
// the command line.
func readConfigFile(fs *flag.FlagSet, path, configFlag string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, configErrorf("config file: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		if err == nil {
			err = errors.New("null")
		}
		return nil, configErrorf("config file %s: not a JSON object: %v", path, err)
	}
	if dec.More() {
		return nil, configErrorf("config file %s: more than one JSON value", path)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]string{}
	for _, k := range keys {
		if fs.Lookup(k) == nil || flagOnly[k] || k == configFlag {
			return nil, configErrorf("config file %s: unknown key %q (the keys are the flag names; see -h)", path, k)
		}
		v, ok := scalar(obj[k])
		if arr, isArr := obj[k].([]any); isArr {
			parts := make([]string, len(arr))
			ok = true
			for i, e := range arr {
				var eok bool
				if parts[i], eok = scalar(e); !eok {
					ok = false
				}
			}
			v = strings.Join(parts, ",")
		}
		if !ok {
			return nil, configErrorf("config file %s, key %q: want a string, a number, a boolean or an array of them, got %s", path, k, jsonType(obj[k]))
		}
		out[k] = v
	}
	return out, nil
}

// scalar returns a JSON string, number or boolean as text.
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		if v {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array of other values"
	}
	return fmt.Sprintf("%T", v)
}
