package auth

import (
	"cmp"
	"slices"
)

// Right is one item of auth:getMyRights (Kuzzle answers {"hits": [Right...], "total": n}).
// Index and Collection are "*" where the policy is not restricted.
type Right struct {
	Controller string `json:"controller"`
	Action     string `json:"action"`
	Index      string `json:"index"`
	Collection string `json:"collection"`
	// Value is "allowed" or "denied" (Kuzzle 2 has no "conditional": that was Kuzzle 1's
	// closures).
	Value string `json:"value"`
}

// Rights flattens u's profiles as Kuzzle's User.getRights and Profile.getRights do
// (lib/model/security/user.ts, profile.ts, rights.ts): one item per role controller and
// action, per restricted index (or "*"), per restricted collection (or "*"). Kuzzle keys
// items by a hash of the whole item, its boolean value included, so the same
// controller/action/index/collection appears once as "allowed" and once as "denied" when
// two roles disagree; that is kept. Kuzzle's order follows its hashes; this one is sorted
// by controller, action, index, collection, value.
func (u *User) Rights() []Right {
	seen := map[Right]struct{}{}
	var out []Right
	add := func(r Right) {
		if _, ok := seen[r]; !ok {
			seen[r] = struct{}{}
			out = append(out, r)
		}
	}
	for _, p := range u.profiles {
		for i := range p.policies {
			pol := &p.policies[i]
			restricted := pol.restrictedTo
			if len(restricted) == 0 {
				restricted = map[string][]string{"*": {"*"}}
			}
			for controller, actions := range pol.role.controllers {
				for action, allowed := range actions {
					value := "denied"
					if allowed {
						value = "allowed"
					}
					for index, cols := range restricted {
						if len(cols) == 0 {
							cols = []string{"*"}
						}
						for _, col := range cols {
							add(Right{Controller: controller, Action: action, Index: index, Collection: col, Value: value})
						}
					}
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b Right) int {
		return cmp.Or(cmp.Compare(a.Controller, b.Controller), cmp.Compare(a.Action, b.Action),
			cmp.Compare(a.Index, b.Index), cmp.Compare(a.Collection, b.Collection), cmp.Compare(a.Value, b.Value))
	})
	if out == nil {
		out = []Right{}
	}
	return out
}
