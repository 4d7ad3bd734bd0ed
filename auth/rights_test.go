package auth

import (
	"errors"
	"fmt"
	"github.com/kuzzlews/kuzzlews/kuzzle"
	"strings"
	"testing"
)

// rightsFile has one user per profile, so each case names the user it checks.
const rightsFile = `{
  "roles": {
    "all":       {"controllers": {"*": {"actions": {"*": true}}}},
    "rtAll":     {"controllers": {"realtime": {"actions": {"*": true}}}},
    "rtNoPub":   {"controllers": {"realtime": {"actions": {"*": true, "publish": false}}}},
    "exactOnly": {"controllers": {"realtime": {"actions": {"subscribe": true}}, "*": {"actions": {"*": true}}}},
    "starFalse": {"controllers": {"*": {"actions": {"*": false}}}},
    "ms":        {"controllers": {"memoryStorage": {"actions": {"get": true}}}},
    "pubOnly":   {"controllers": {"realtime": {"actions": {"publish": true}}}},
    "subOnly":   {"controllers": {"realtime": {"actions": {"subscribe": true}}}}
  },
  "profiles": {
    "all":        {"policies": [{"roleId": "all"}]},
    "rtNoPub":    {"policies": [{"roleId": "rtNoPub"}]},
    "exactOnly":  {"policies": [{"roleId": "exactOnly"}]},
    "starFalse":  {"policies": [{"roleId": "starFalse"}]},
    "ms":         {"policies": [{"roleId": "ms"}]},
    "shop":       {"policies": [{"roleId": "rtAll", "restrictedTo": [
                    {"index": "shop", "collections": ["orders", "carts"]},
                    {"index": "logs"},
                    {"index": "mixed"}, {"index": "mixed", "collections": ["only"]}]}]},
    "emptyRestr": {"policies": [{"roleId": "rtAll", "restrictedTo": []}]},
    "twoPolicies": {"policies": [
                    {"roleId": "subOnly", "restrictedTo": [{"index": "a"}]},
                    {"roleId": "pubOnly", "restrictedTo": [{"index": "b"}]}]},
    "pubB":       {"policies": [{"roleId": "pubOnly", "restrictedTo": [{"index": "b"}]}]},
    "subA":       {"policies": [{"roleId": "subOnly", "restrictedTo": [{"index": "a"}]}]},
    "deny":       {"policies": [{"roleId": "rtNoPub"}, {"roleId": "starFalse"}]}
  },
  "users": {
    "all":        {"content": {"profileIds": ["all"]}},
    "rtNoPub":    {"content": {"profileIds": ["rtNoPub"]}},
    "exactOnly":  {"content": {"profileIds": ["exactOnly"]}},
    "starFalse":  {"content": {"profileIds": ["starFalse"]}},
    "ms":         {"content": {"profileIds": ["ms"]}},
    "shop":       {"content": {"profileIds": ["shop"]}},
    "emptyRestr": {"content": {"profileIds": ["emptyRestr"]}},
    "twoPolicies": {"content": {"profileIds": ["twoPolicies"]}},
    "twoProfiles": {"content": {"profileIds": ["subA", "pubB"]}},
    "deny":       {"content": {"profileIds": ["deny"]}}
  }
}`

func TestAllowed(t *testing.T) {
	s, err := LoadSecurity([]byte(rightsFile))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user       string
		controller string
		action     string
		index      string
		collection string
		want       bool
	}{
		{user: "all", controller: "realtime", action: "publish", index: "i", collection: "c", want: true},
		{user: "all", controller: "document", action: "create", want: true},
		// "*" action, with an explicit false beside it.
		{user: "rtNoPub", controller: "realtime", action: "subscribe", index: "i", collection: "c", want: true},
		{user: "rtNoPub", controller: "realtime", action: "publish", index: "i", collection: "c", want: false},
		{user: "rtNoPub", controller: "document", action: "get", want: false},
		// An exact controller entry hides the "*" controller (role.ts isActionAllowed).
		{user: "exactOnly", controller: "realtime", action: "subscribe", want: true},
		{user: "exactOnly", controller: "realtime", action: "publish", want: false},
		{user: "exactOnly", controller: "document", action: "get", want: true},
		{user: "starFalse", controller: "auth", action: "login", want: false},
		// ms and memoryStorage are one controller.
		{user: "ms", controller: "ms", action: "get", want: true},
		{user: "ms", controller: "memoryStorage", action: "get", want: true},
		{user: "ms", controller: "ms", action: "set", want: false},
		// restrictedTo.
		{user: "shop", controller: "realtime", action: "subscribe", index: "shop", collection: "orders", want: true},
		{user: "shop", controller: "realtime", action: "subscribe", index: "shop", collection: "carts", want: true},
		{user: "shop", controller: "realtime", action: "subscribe", index: "shop", collection: "users", want: false},
		{user: "shop", controller: "realtime", action: "subscribe", index: "other", collection: "orders", want: false},
		{user: "shop", controller: "realtime", action: "subscribe", index: "logs", collection: "anything", want: true},
		{user: "shop", controller: "realtime", action: "subscribe", index: "shop", want: true}, // no collection: passes (Kuzzle's binary search)
		{user: "shop", controller: "realtime", action: "join", want: true},                     // no index: restrictions ignored
		{user: "shop", controller: "realtime", action: "subscribe", index: "mixed", collection: "only", want: true},
		{user: "shop", controller: "realtime", action: "subscribe", index: "mixed", collection: "else", want: false}, // collections merged: restricted
		{user: "shop", controller: "document", action: "get", index: "shop", collection: "orders", want: false},
		{user: "emptyRestr", controller: "realtime", action: "subscribe", index: "any", collection: "thing", want: true},
		// Several policies: each action with its own restriction.
		{user: "twoPolicies", controller: "realtime", action: "subscribe", index: "a", collection: "x", want: true},
		{user: "twoPolicies", controller: "realtime", action: "subscribe", index: "b", collection: "x", want: false},
		{user: "twoPolicies", controller: "realtime", action: "publish", index: "b", collection: "x", want: true},
		{user: "twoPolicies", controller: "realtime", action: "publish", index: "a", collection: "x", want: false},
		// Several profiles: the same.
		{user: "twoProfiles", controller: "realtime", action: "subscribe", index: "a", collection: "x", want: true},
		{user: "twoProfiles", controller: "realtime", action: "subscribe", index: "b", collection: "x", want: false},
		{user: "twoProfiles", controller: "realtime", action: "publish", index: "b", collection: "x", want: true},
		// A policy's false does not veto another policy's true.
		{user: "deny", controller: "realtime", action: "subscribe", index: "i", collection: "c", want: true},
		{user: "deny", controller: "realtime", action: "publish", index: "i", collection: "c", want: false},
	}
	for _, tc := range tests {
		name := fmt.Sprintf("%s %s:%s %s/%s", tc.user, tc.controller, tc.action, tc.index, tc.collection)
		t.Run(name, func(t *testing.T) {
			u, err := s.User(tc.user)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.Allowed(tc.controller, tc.action, tc.index, tc.collection); got != tc.want {
				t.Fatalf("Allowed = %v, want %v", got, tc.want)
			}
			err = u.Check(tc.controller, tc.action, tc.index, tc.collection)
			if tc.want != (err == nil) {
				t.Fatalf("Check = %v", err)
			}
			if err != nil {
				var e *kuzzle.Error
				if !errors.Is(err, ErrForbidden) || !errors.As(err, &e) || strings.Join(e.Props, ",") != tc.controller+","+tc.action+","+tc.user {
					t.Fatalf("Check = %#v, want ErrForbidden(controller, action, kuid)", err)
				}
			}
		})
	}
	t.Run("anonymous gets 401", func(t *testing.T) {
		err := s.Anonymous().Check("realtime", "subscribe", "shop", "orders")
		var e *kuzzle.Error
		if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &e) || strings.Join(e.Props, ",") != "realtime,subscribe" {
			t.Fatalf("Check = %v", err)
		}
	})
}

func TestRights(t *testing.T) {
	s, err := LoadSecurity([]byte(rightsFile))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user string
		want string
	}{
		{user: "all", want: "*:*@*/*=allowed"},
		{user: "rtNoPub", want: "realtime:*@*/*=allowed realtime:publish@*/*=denied"},
		{user: "shop", want: "realtime:*@logs/*=allowed realtime:*@mixed/only=allowed realtime:*@shop/carts=allowed realtime:*@shop/orders=allowed"},
		{user: "twoProfiles", want: "realtime:publish@b/*=allowed realtime:subscribe@a/*=allowed"},
		// Kuzzle hashes the item with its value: two roles that disagree give two items.
		{user: "deny", want: "*:*@*/*=denied realtime:*@*/*=allowed realtime:publish@*/*=denied"},
		{user: "ms", want: "memoryStorage:get@*/*=allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			u, _ := s.User(tc.user)
			var got []string
			for _, r := range u.Rights() {
				got = append(got, fmt.Sprintf("%s:%s@%s/%s=%s", r.Controller, r.Action, r.Index, r.Collection, r.Value))
			}
			if strings.Join(got, " ") != tc.want {
				t.Fatalf("Rights =\n%s\nwant\n%s", strings.Join(got, " "), tc.want)
			}
		})
	}
	t.Run("anonymous standard role", func(t *testing.T) {
		got := len(s.Anonymous().Rights())
		if got != 6 {
			t.Fatalf("anonymous has %d rights, want 6", got)
		}
	})
}
