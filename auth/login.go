package auth

// Login checks credentials as auth:login does with Kuzzle's local strategy
// (kuzzle-plugin-auth-passport-local verify): the user whose local username is username,
// if password matches its hash. A strategy other than "local" is ErrUnknownStrategy; an
// empty username or password is ErrLoginFailed "Missing credentials" (passport-local); an
// unknown username or a wrong password is ErrLoginFailed "wrong username or password",
// after the same work as a real verification, so the two cannot be told apart by their
// time. At most GOMAXPROCS verifications run at once; Login blocks for a free slot. Rate
// limiting is the caller's (LoginLimiter).
func (s *Security) Login(strategy, username, password string) (*User, error) {
	if strategy != StrategyLocal {
		return nil, ErrUnknownStrategy.New(strategy)
	}
	if username == "" || password == "" {
		return nil, ErrLoginFailed.New(msgMissingCredentials)
	}
	u, known := s.byUsername[username]
	h := s.dummy
	if known {
		h = u.password
	}
	if h == nil {
		return nil, ErrLoginFailed.New(msgWrongCredentials)
	}
	s.hashSlots <- struct{}{}
	ok := h.matches(password)
	<-s.hashSlots
	if !known || !ok {
		return nil, ErrLoginFailed.New(msgWrongCredentials)
	}
	return u, nil
}
