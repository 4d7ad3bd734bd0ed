package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

// MaxSecurityFileSize is the largest security file LoadSecurity reads, in bytes.
const MaxSecurityFileSize = 64 << 20

// StrategyLocal is the only authentication strategy: username and password, as Kuzzle's
// kuzzle-plugin-auth-passport-local.
const StrategyLocal = "local"

// Role is a Kuzzle role: for each controller (or "*"), which actions (or "*") it allows
// (lib/model/security/role.ts).
type Role struct {
	id          string
	controllers map[string]map[string]bool // controller -> action -> allowed
}

// ID returns the role id.
func (r *Role) ID() string { return r.id }

// allows is Kuzzle's Role.isActionAllowed: the controller's own entry if the role has one
// (ms and memoryStorage are one controller), else the "*" entry; in it the action's own
// value, else the "*" value; anything else is false. An exact controller entry without the
// action does not fall back to the "*" controller.
func (r *Role) allows(controller, action string) bool {
	var (
		actions map[string]bool
		ok      bool
	)
	if controller == "ms" || controller == "memoryStorage" {
		if actions, ok = r.controllers["ms"]; !ok {
			actions, ok = r.controllers["memoryStorage"]
		}
	}
	if !ok {
		if actions, ok = r.controllers[controller]; !ok {
			if actions, ok = r.controllers["*"]; !ok {
				return false
			}
		}
	}
	if v, ok := actions[action]; ok {
		return v
	}
	return actions["*"]
}

// canLogIn is Kuzzle's Role.canLogIn: auth:login, auth:*, *:login or *:* is true.
func (r *Role) canLogIn() bool {
	for _, c := range []string{"auth", "*"} {
		if actions, ok := r.controllers[c]; ok && (actions["login"] || actions["*"]) {
			return true
		}
	}
	return false
}

// policy is one entry of a profile's policies, with its restrictions optimized as Kuzzle's
// profileRepository.optimizePolicy does.
type policy struct {
	role *Role
	// restrictedTo maps an index to its sorted, deduplicated collections; an empty list is
	// the whole index. Nil or empty: no restriction.
	restrictedTo map[string][]string
}

// passes is Kuzzle's Role.checkRestrictions (lib/model/security/role.ts): no restriction,
// or a request without an index, passes; otherwise the index must be restricted to, and
// the collection be one of its collections unless the restriction names none. A request
// without a collection passes a restriction on its index (in Kuzzle an undefined
// collection compares equal in the binary search).
func (p *policy) passes(index, collection string) bool {
	if len(p.restrictedTo) == 0 || index == "" {
		return true
	}
	cols, ok := p.restrictedTo[index]
	if !ok {
		return false
	}
	if len(cols) == 0 || collection == "" {
		return true
	}
	_, found := slices.BinarySearch(cols, collection)
	return found
}

// Profile is a Kuzzle profile: policies, each a role with optional index/collection
// restrictions, and a rate limit (lib/model/security/profile.ts).
type Profile struct {
	id        string
	rateLimit int
	policies  []policy
}

// ID returns the profile id.
func (p *Profile) ID() string { return p.id }

// RateLimit returns the profile's rateLimit: requests per second, 0 for unlimited.
func (p *Profile) RateLimit() int { return p.rateLimit }

// allows is Kuzzle's Profile.isActionAllowed: some policy whose role allows the action
// passes its restrictions.
func (p *Profile) allows(controller, action, index, collection string) bool {
	for i := range p.policies {
		pol := &p.policies[i]
		if pol.role.allows(controller, action) && pol.passes(index, collection) {
			return true
		}
	}
	return false
}

// User is a Kuzzle user: a kuid, profiles, content, and local credentials. A User belongs
// to the Security it was loaded with and never changes.
type User struct {
	kuid       string
	profileIDs []string
	profiles   []*Profile
	username   string        // local strategy username, "" without credentials
	password   *passwordHash // nil without credentials
	source     json.RawMessage
}

// Kuid returns the user id; "-1" for the anonymous user.
func (u *User) Kuid() string { return u.kuid }

// IsAnonymous reports whether u is Kuzzle's anonymous user (kuid "-1").
func (u *User) IsAnonymous() bool { return u.kuid == AnonymousKuid }

// ProfileIDs returns a copy of the user's profile ids.
func (u *User) ProfileIDs() []string { return slices.Clone(u.profileIDs) }

// Source returns the user's _source for auth:getCurrentUser, as JSON: the content of the
// security file's user (its "content" object, without _id and _kuzzle_info) with
// profileIds (lib/core/auth/formatProcessing.ts serializeUser). The anonymous user's is
// {"name":"Anonymous","profileIds":["anonymous"]}. The bytes are shared: do not modify.
func (u *User) Source() json.RawMessage { return u.source }

// Strategies returns the strategies the user has credentials for: ["local"] or [] (the
// "strategies" of auth:getCurrentUser).
func (u *User) Strategies() []string {
	if u.password != nil {
		return []string{StrategyLocal}
	}
	return []string{}
}

// RateLimit is Kuzzle's combination of the user's profiles' rate limits
// (lib/api/rateLimiter.ts): 0 (unlimited) if any profile is unlimited, else the largest.
func (u *User) RateLimit() int {
	limit := -1
	for _, p := range u.profiles {
		if limit == 0 || p.rateLimit == 0 {
			limit = 0
		} else {
			limit = max(limit, p.rateLimit)
		}
	}
	return max(limit, 0)
}

// Allowed reports whether u may run controller:action on index/collection, as Kuzzle's
// User.isActionAllowed: some profile has a policy whose role allows the action (wildcards
// "*" for controller and action) and whose restrictedTo, if any, covers the index and
// collection. An empty index or collection means the request has none: restrictions are
// then ignored (no index) or pass for the index (no collection), as in Kuzzle.
func (u *User) Allowed(controller, action, index, collection string) bool {
	for _, p := range u.profiles {
		if p.allows(controller, action, index, collection) {
			return true
		}
	}
	return false
}

// Check is Allowed as an error, as Kuzzle's funnel answers it (lib/api/funnel.ts
// checkRights): nil if allowed, else ErrUnauthorized for the anonymous user and
// ErrForbidden for anybody else.
func (u *User) Check(controller, action, index, collection string) error {
	if u.Allowed(controller, action, index, collection) {
		return nil
	}
	if u.IsAnonymous() {
		return ErrUnauthorized.New(controller, action)
	}
	return ErrForbidden.New(controller, action, u.kuid)
}

// Security is a loaded, validated security configuration: roles, profiles, users and the
// anonymous user. It never changes after LoadSecurity; to reload, load a new one and swap
// it in a Holder. It is safe for concurrent use.
type Security struct {
	roles      map[string]*Role
	profiles   map[string]*Profile
	users      map[string]*User
	byUsername map[string]*User
	anonymous  *User
	open       bool
	// defaultSource is the _source of users TokenUser makes with the "default" profile.
	defaultSource json.RawMessage

	// dummy is verified against when a login names an unknown username, so that an
	// unknown username costs the time of a wrong password. Nil without any credentials.
	dummy *passwordHash
	// hashSlots bounds the password verifications running at once (each costs tens of
	// milliseconds of CPU, and argon2id its memory parameter).
	hashSlots chan struct{}
}

// User returns the user with this kuid; "-1" and "anonymous" are the anonymous user, as
// in Kuzzle's userRepository.load. An unknown kuid is ErrUserNotFound.
func (s *Security) User(kuid string) (*User, error) {
	if kuid == AnonymousKuid || kuid == "anonymous" {
		return s.anonymous, nil
	}
	if u, ok := s.users[kuid]; ok {
		return u, nil
	}
	return nil, ErrUserNotFound.New(kuid)
}

// TokenUser returns the user a verified token names: the user with this kuid, the
// anonymous user for "-1", or, for a kuid the security file does not define, a user with
// the file's "default" profile when it has one (the profile Kuzzle gives new users: a
// token issued by another system sharing the secret, a Kuzzle whose users are not copied
// here, gets the rights written for "any authenticated user"). Without a "default"
// profile an unknown kuid is ErrUserNotFound. The user made for an unknown kuid has the
// _source {"profileIds":["default"]} and no credentials; each call makes a new one.
func (s *Security) TokenUser(kuid string) (*User, error) {
	u, err := s.User(kuid)
	if err == nil {
		return u, nil
	}
	p, ok := s.profiles["default"]
	if !ok || s.open {
		return nil, err
	}
	return &User{kuid: kuid, profileIDs: []string{"default"}, profiles: []*Profile{p}, source: s.defaultSource}, nil
}

// HasCredentials reports whether some user has local credentials (auth:login can
// succeed, given a secret to sign tokens with).
func (s *Security) HasCredentials() bool { return len(s.byUsername) > 0 }

// tokenOnlyFile is the security of a server with a secret (or a public key) and no
// security file: Kuzzle's standard anonymous role and profile (LoadSecurity adds them),
// and a "default" profile whose role allows everything, as Kuzzle's "default" role does
// before an administrator exists (lib/config/default.config.ts security.default).
const tokenOnlyFile = `{"roles":{"default":{"controllers":{"*":{"actions":{"*":true}}}}},` +
	`"profiles":{"default":{"rateLimit":0,"policies":[{"roleId":"default"}]}}}`

// TokenOnlySecurity returns the configuration of a server that verifies tokens but has no
// security file: the anonymous user has Kuzzle's standard anonymous rights
// (auth:checkToken, getCurrentUser, getMyRights, login; server:publicApi, openapi), and
// every verified token's user (TokenUser) has the "default" profile, allowed everything.
// There are no users, so auth:login always fails.
func TokenOnlySecurity() *Security {
	s, err := LoadSecurity([]byte(tokenOnlyFile))
	if err != nil {
		panic("auth: the built-in token-only security does not load: " + err.Error())
	}
	return s
}

// Anonymous returns the anonymous user (kuid "-1", profile "anonymous").
func (s *Security) Anonymous() *User { return s.anonymous }

// Role returns the role with this id, or nil.
func (s *Security) Role(id string) *Role { return s.roles[id] }

// Profile returns the profile with this id, or nil.
func (s *Security) Profile(id string) *Profile { return s.profiles[id] }

// Users returns the number of users (the anonymous user not included).
func (s *Security) Users() int { return len(s.users) }

// Open reports whether s is OpenSecurity.
func (s *Security) Open() bool { return s.open }

// Strategies returns the authentication strategies (auth:getStrategies): ["local"].
func (s *Security) Strategies() []string { return []string{StrategyLocal} }

// Holder holds the current Security and swaps it atomically (a reload on SIGHUP): a
// request takes one Security with Load and uses it to the end. Its zero value holds nil.
type Holder struct {
	p atomic.Pointer[Security]
}

// NewHolder returns a Holder holding s.
func NewHolder(s *Security) *Holder {
	h := &Holder{}
	h.p.Store(s)
	return h
}

// Load returns the current Security (nil if none was stored).
func (h *Holder) Load() *Security { return h.p.Load() }

// Store makes s the current Security.
func (h *Holder) Store(s *Security) { h.p.Store(s) }

// standardAnonymousRole is Kuzzle's security.standard.roles.anonymous
// (lib/config/default.config.ts), used when the security file defines no "anonymous"
// role.
func standardAnonymousRole() *Role {
	return &Role{id: "anonymous", controllers: map[string]map[string]bool{
		"auth":   {"checkToken": true, "getCurrentUser": true, "getMyRights": true, "login": true},
		"server": {"publicApi": true, "openapi": true},
	}}
}

// standardAnonymousRateLimit is security.standard.profiles.anonymous.rateLimit.
const standardAnonymousRateLimit = 200

// anonymousSource is the _source of Kuzzle's anonymous user (userRepository.ts init).
var anonymousSource = json.RawMessage(`{"name":"Anonymous","profileIds":["anonymous"]}`)

// OpenSecurity returns the configuration of a server without security file nor secret:
// the anonymous user may do everything (a role allowing "*" on "*", as a fresh Kuzzle's
// anonymous role, lib/kuzzle/internalIndexHandler.js), and there are no users.
func OpenSecurity() *Security {
	role := &Role{id: "anonymous", controllers: map[string]map[string]bool{"*": {"*": true}}}
	prof := &Profile{id: "anonymous", policies: []policy{{role: role}}}
	return &Security{
		roles:      map[string]*Role{role.id: role},
		profiles:   map[string]*Profile{prof.id: prof},
		users:      map[string]*User{},
		byUsername: map[string]*User{},
		anonymous:  &User{kuid: AnonymousKuid, profileIDs: []string{"anonymous"}, profiles: []*Profile{prof}, source: anonymousSource},
		open:       true,
		hashSlots:  make(chan struct{}, 1),
	}
}

// FileError is one problem of a security file: where (a dotted path such as
// profiles.editor.policies[0].roleId) and what. It never quotes a password.
type FileError struct {
	Path string
	Msg  string
}

func (e *FileError) Error() string { return "security file: " + e.Path + ": " + e.Msg }

// maxFileErrors is how many FileErrors LoadSecurity reports at most.
const maxFileErrors = 50

// loader collects the problems of one security file.
type loader struct {
	errs    []error
	dropped int
}

func (l *loader) fail(path, format string, args ...any) {
	if len(l.errs) >= maxFileErrors {
		l.dropped++
		return
	}
	l.errs = append(l.errs, &FileError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	if l.dropped > 0 {
		l.errs = append(l.errs, fmt.Errorf("security file: %d more problems not shown", l.dropped))
	}
	return errors.Join(l.errs...)
}

// seg renders an object key as a path segment.
func seg(k string) string {
	if k == "" || strings.ContainsAny(k, ".[]\" \t\n") {
		return strconv.Quote(k)
	}
	return k
}

// sortedKeys returns the keys of m in order, for reproducible error lists.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// LoadSecurityFile reads and loads a security file (see LoadSecurity).
func LoadSecurityFile(path string) (*Security, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("security file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSecurityFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("security file: %w", err)
	}
	return LoadSecurity(data)
}

// LoadSecurity parses and validates a security file: a JSON object with optional
// "roles", "profiles" and "users", each a map of id to the body Kuzzle's
// security:createOrReplaceRole, security:createOrReplaceProfile and security:createUser
// take (the shape of Kuzzle's --securities file, lib/core/security/securityLoader.ts):
//
//	{
//	  "roles": {"editor": {"controllers": {"realtime": {"actions": {"*": true}}}}},
//	  "profiles": {"editor": {"rateLimit": 0, "policies": [
//	    {"roleId": "editor", "restrictedTo": [{"index": "shop", "collections": ["orders"]}]}]}},
//	  "users": {"bob": {"content": {"profileIds": ["editor"], "name": "Bob"},
//	    "credentials": {"local": {"username": "bob", "password": "$argon2id$v=19$m=19456,t=2,p=1$…$…"}}}}
//	}
//
// Checks, with Kuzzle's rules where Kuzzle has one: a role has a non-empty "controllers"
// object, each controller a non-empty "actions" object of booleans, the "*" controller
// only the "*" action, and the "anonymous" role allows auth:login (role.ts,
// roleRepository.ts); a profile's rateLimit is an integer >= 0, each policy has only
// "roleId" (an existing role) and "restrictedTo" (an array of {"index", "collections"}
// with a non-empty index and string collections), a profile without policies gets the
// "default" role, and the "anonymous" profile includes the "anonymous" role (profile.ts,
// profileRepository.ts); a user has only "content" and "credentials", content.profileIds
// is a non-empty array of existing profiles, the kuid is neither "-1" nor "anonymous",
// the only strategy is "local" with a "username" used by no other user and a "password"
// that is a bcrypt ($2a$, $2b$, $2y$, cost 4 to 16) or argon2id
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash) hash, never a plain password. Unknown top-level
// keys are refused; unknown keys of a role or a profile are ignored, as Kuzzle stores
// them.
//
// Without an "anonymous" role the anonymous user gets Kuzzle's standard one
// (auth:checkToken, getCurrentUser, getMyRights, login; server:publicApi, openapi);
// without an "anonymous" profile, one with that role and rateLimit 200. The error lists
// every problem found (up to 50), each a *FileError naming the item.
func LoadSecurity(data []byte) (*Security, error) {
	if len(data) > MaxSecurityFileSize {
		return nil, fmt.Errorf("security file: larger than %d bytes", MaxSecurityFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("security file: invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("security file: invalid JSON: data after the top-level value")
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("security file: the top-level value must be an object")
	}

	l := &loader{}
	s := &Security{
		roles:      map[string]*Role{},
		profiles:   map[string]*Profile{},
		users:      map[string]*User{},
		byUsername: map[string]*User{},
		hashSlots:  make(chan struct{}, max(runtime.GOMAXPROCS(0), 1)),
	}
	for _, k := range sortedKeys(top) {
		if k != "roles" && k != "profiles" && k != "users" {
			l.fail(seg(k), `unknown key (expected "roles", "profiles", "users")`)
		}
	}
	section := func(name string) map[string]any {
		v, ok := top[name]
		if !ok || v == nil {
			return nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			l.fail(name, "must be an object of id to definition")
			return nil
		}
		return m
	}

	roles := section("roles")
	for _, id := range sortedKeys(roles) {
		if r := l.role(id, roles[id]); r != nil {
			s.roles[id] = r
		}
	}
	if _, ok := roles["anonymous"]; !ok {
		s.roles["anonymous"] = standardAnonymousRole()
	}

	profiles := section("profiles")
	for _, id := range sortedKeys(profiles) {
		if p := l.profile(id, profiles[id], s.roles, roles); p != nil {
			s.profiles[id] = p
		}
	}
	if _, ok := profiles["anonymous"]; !ok {
		s.profiles["anonymous"] = &Profile{id: "anonymous", rateLimit: standardAnonymousRateLimit,
			policies: []policy{{role: s.roles["anonymous"]}}}
	}

	users := section("users")
	for _, kuid := range sortedKeys(users) {
		l.user(kuid, users[kuid], s, profiles)
	}

	if err := l.err(); err != nil {
		return nil, err
	}
	s.anonymous = &User{kuid: AnonymousKuid, profileIDs: []string{"anonymous"},
		profiles: []*Profile{s.profiles["anonymous"]}, source: anonymousSource}
	s.defaultSource = json.RawMessage(`{"profileIds":["default"]}`)
	for _, name := range sortedKeys(s.byUsername) {
		s.dummy = s.byUsername[name].password
		break
	}
	return s, nil
}

// role validates roles.<id> as Kuzzle's Role.validateDefinition, validateControllerRights
// and roleRepository.checkRoleNativeRights do.
func (l *loader) role(id string, v any) *Role {
	path := "roles." + seg(id)
	if id == "" {
		l.fail(path, "empty role id")
		return nil
	}
	body, ok := v.(map[string]any)
	if !ok {
		l.fail(path, "must be an object")
		return nil
	}
	cv, ok := body["controllers"]
	if !ok || cv == nil {
		l.fail(path+".controllers", "missing")
		return nil
	}
	ctrls, ok := cv.(map[string]any)
	if !ok {
		l.fail(path+".controllers", "must be an object")
		return nil
	}
	if len(ctrls) == 0 {
		l.fail(path+".controllers", "is empty")
		return nil
	}
	r := &Role{id: id, controllers: make(map[string]map[string]bool, len(ctrls))}
	bad := false
	for _, c := range sortedKeys(ctrls) {
		cpath := path + ".controllers." + seg(c)
		cbody, ok := ctrls[c].(map[string]any)
		if !ok {
			l.fail(cpath, "must be an object")
			bad = true
			continue
		}
		av, ok := cbody["actions"]
		if !ok {
			l.fail(cpath+".actions", "missing")
			bad = true
			continue
		}
		acts, ok := av.(map[string]any)
		if !ok {
			l.fail(cpath+".actions", "must be an object")
			bad = true
			continue
		}
		if len(acts) == 0 {
			l.fail(cpath+".actions", "is empty")
			bad = true
			continue
		}
		m := make(map[string]bool, len(acts))
		for _, a := range sortedKeys(acts) {
			b, ok := acts[a].(bool)
			if !ok {
				l.fail(cpath+".actions."+seg(a), "must be true or false")
				bad = true
				continue
			}
			if c == "*" && a != "*" {
				l.fail(cpath+".actions."+seg(a), `the "*" controller only takes the "*" action`)
				bad = true
				continue
			}
			m[a] = b
		}
		r.controllers[c] = m
	}
	if bad {
		return nil
	}
	if id == "anonymous" && !r.canLogIn() {
		l.fail(path, `the anonymous role must allow auth:login`)
		return nil
	}
	return r
}

// profile validates profiles.<id> as Kuzzle's Profile.validateDefinition,
// validateRateLimit and profileRepository.fromDTO do. definedRoles is the file's "roles"
// section, to tell an unknown role from an invalid one.
func (l *loader) profile(id string, v any, roles map[string]*Role, definedRoles map[string]any) *Profile {
	path := "profiles." + seg(id)
	if id == "" {
		l.fail(path, "empty profile id")
		return nil
	}
	body, ok := v.(map[string]any)
	if !ok {
		l.fail(path, "must be an object")
		return nil
	}
	p := &Profile{id: id}
	bad := false
	if rv, ok := body["rateLimit"]; ok && rv != nil {
		n, ok := rv.(json.Number)
		f, err := strconv.ParseFloat(string(n), 64)
		if !ok || err != nil || f != math.Trunc(f) || f < 0 || f > math.MaxInt32 {
			l.fail(path+".rateLimit", "must be an integer >= 0")
			bad = true
		} else {
			p.rateLimit = int(f)
		}
	}
	var pols []any
	if pv, ok := body["policies"]; ok && pv != nil {
		arr, ok := pv.([]any)
		if !ok {
			l.fail(path+".policies", "must be an array")
			return nil
		}
		pols = arr
	}
	if len(pols) == 0 {
		// profileRepository.fromDTO: a profile without policies gets the default role.
		if _, ok := roles["default"]; !ok {
			if _, defined := definedRoles["default"]; !defined {
				l.fail(path+".policies", `missing or empty: Kuzzle then gives the profile the "default" role, which is not defined`)
			}
			return nil
		}
		pols = []any{map[string]any{"roleId": "default"}}
	}
	hasAnonymous := false
	for i, pv := range pols {
		ppath := fmt.Sprintf("%s.policies[%d]", path, i)
		pol, ok := pv.(map[string]any)
		if !ok {
			l.fail(ppath, "must be an object")
			bad = true
			continue
		}
		for _, k := range sortedKeys(pol) {
			if k != "roleId" && k != "restrictedTo" {
				l.fail(ppath+"."+seg(k), `unexpected key (expected "roleId", "restrictedTo")`)
				bad = true
			}
		}
		roleID, ok := pol["roleId"].(string)
		if !ok || roleID == "" {
			l.fail(ppath+".roleId", "missing or not a non-empty string")
			bad = true
			continue
		}
		role, ok := roles[roleID]
		if !ok {
			if _, defined := definedRoles[roleID]; !defined {
				l.fail(ppath+".roleId", "unknown role %q", roleID)
			}
			bad = true
			continue
		}
		if roleID == "anonymous" {
			hasAnonymous = true
		}
		restricted, ok := l.restrictions(ppath+".restrictedTo", pol["restrictedTo"])
		if !ok {
			bad = true
			continue
		}
		p.policies = append(p.policies, policy{role: role, restrictedTo: restricted})
	}
	if id == "anonymous" && !hasAnonymous && !bad {
		l.fail(path+".policies", `the anonymous profile must include the anonymous role`)
		bad = true
	}
	if bad {
		return nil
	}
	return p
}

// restrictions validates a policy's restrictedTo and optimizes it as Kuzzle's
// profileRepository.optimizePolicy: index -> sorted unique collections, the collections of
// several restrictions of one index merged. An empty index is refused (Kuzzle skips it,
// which silently lifts the restriction).
func (l *loader) restrictions(path string, v any) (map[string][]string, bool) {
	if v == nil {
		return nil, true
	}
	arr, ok := v.([]any)
	if !ok {
		l.fail(path, "must be an array")
		return nil, false
	}
	sets := map[string]map[string]struct{}{}
	good := true
	for j, rv := range arr {
		rpath := fmt.Sprintf("%s[%d]", path, j)
		r, ok := rv.(map[string]any)
		if !ok {
			l.fail(rpath, "must be an object")
			good = false
			continue
		}
		for _, k := range sortedKeys(r) {
			if k != "index" && k != "collections" {
				l.fail(rpath+"."+seg(k), `unexpected key (expected "index", "collections")`)
				good = false
			}
		}
		index, ok := r["index"].(string)
		if !ok || index == "" {
			l.fail(rpath+".index", "missing or not a non-empty string")
			good = false
			continue
		}
		set, ok := sets[index]
		if !ok {
			set = map[string]struct{}{}
			sets[index] = set
		}
		cv, ok := r["collections"]
		if !ok || cv == nil {
			continue
		}
		cols, ok := cv.([]any)
		if !ok {
			l.fail(rpath+".collections", "must be an array of strings")
			good = false
			continue
		}
		for k, c := range cols {
			name, ok := c.(string)
			if !ok {
				l.fail(fmt.Sprintf("%s.collections[%d]", rpath, k), "must be a string")
				good = false
				continue
			}
			set[name] = struct{}{}
		}
	}
	if !good {
		return nil, false
	}
	if len(sets) == 0 {
		return nil, true
	}
	out := make(map[string][]string, len(sets))
	for index, set := range sets {
		out[index] = sortedKeys(set)
	}
	return out, true
}

// user validates users.<kuid> as Kuzzle's security:createUser and the local strategy's
// validate do, and adds it to s.
func (l *loader) user(kuid string, v any, s *Security, definedProfiles map[string]any) {
	path := "users." + seg(kuid)
	switch kuid {
	case "":
		l.fail(path, "empty kuid")
		return
	case AnonymousKuid, "anonymous":
		l.fail(path, "this kuid is the anonymous user's")
		return
	}
	body, ok := v.(map[string]any)
	if !ok {
		l.fail(path, "must be an object")
		return
	}
	bad := false
	for _, k := range sortedKeys(body) {
		if k != "content" && k != "credentials" {
			l.fail(path+"."+seg(k), `unexpected key (expected "content", "credentials")`)
			bad = true
		}
	}
	content, ok := body["content"].(map[string]any)
	if !ok {
		l.fail(path+".content", "missing or not an object")
		return
	}
	u := &User{kuid: kuid}
	pv, ok := content["profileIds"]
	if !ok || pv == nil {
		l.fail(path+".content.profileIds", "missing")
		return
	}
	ids, ok := pv.([]any)
	if !ok {
		l.fail(path+".content.profileIds", "must be an array of profile ids")
		return
	}
	if len(ids) == 0 {
		l.fail(path+".content.profileIds", "is empty")
		return
	}
	for i, idv := range ids {
		id, ok := idv.(string)
		if !ok {
			l.fail(fmt.Sprintf("%s.content.profileIds[%d]", path, i), "must be a string")
			bad = true
			continue
		}
		p, ok := s.profiles[id]
		if !ok {
			if _, defined := definedProfiles[id]; !defined {
				l.fail(fmt.Sprintf("%s.content.profileIds[%d]", path, i), "unknown profile %q", id)
			}
			bad = true
			continue
		}
		u.profileIDs = append(u.profileIDs, id)
		u.profiles = append(u.profiles, p)
	}

	if cv, ok := body["credentials"]; ok && cv != nil {
		creds, ok := cv.(map[string]any)
		if !ok {
			l.fail(path+".credentials", "must be an object")
			return
		}
		for _, strategy := range sortedKeys(creds) {
			cpath := path + ".credentials." + seg(strategy)
			if strategy != StrategyLocal {
				l.fail(cpath, "unknown authentication strategy %q (only %q)", strategy, StrategyLocal)
				bad = true
				continue
			}
			if !l.local(cpath, creds[strategy], u) {
				bad = true
			}
		}
	}
	if bad {
		return
	}
	if u.password != nil {
		if other, ok := s.byUsername[u.username]; ok {
			l.fail(path+".credentials.local.username", "username %q is already used by user %q", u.username, other.kuid)
			return
		}
		s.byUsername[u.username] = u
	}

	src := make(map[string]any, len(content))
	for k, v := range content {
		if k != "_id" && k != "_kuzzle_info" {
			src[k] = v
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(src); err != nil {
		l.fail(path+".content", "cannot be encoded: %v", err)
		return
	}
	u.source = json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n"))
	s.users[kuid] = u
}

// local validates the local strategy credentials {"username", "password"} into u.
func (l *loader) local(path string, v any, u *User) bool {
	c, ok := v.(map[string]any)
	if !ok {
		l.fail(path, "must be an object")
		return false
	}
	good := true
	for _, k := range sortedKeys(c) {
		if k != "username" && k != "password" {
			l.fail(path+"."+seg(k), `unexpected key (expected "username", "password")`)
			good = false
		}
	}
	name, ok := c["username"].(string)
	if !ok || name == "" {
		l.fail(path+".username", "missing or not a non-empty string")
		good = false
	}
	hashStr, ok := c["password"].(string)
	if !ok || hashStr == "" {
		l.fail(path+".password", "missing or not a string")
		return false
	}
	h, err := parsePasswordHash(hashStr)
	if err != nil {
		l.fail(path+".password", "%v", err)
		return false
	}
	if !good {
		return false
	}
	u.username, u.password = name, h
	return true
}
