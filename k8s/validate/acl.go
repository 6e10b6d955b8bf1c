package validate

import (
	"slices"
	"strings"
)

// Caller identifies the app that invokes another, as Dapr sees it in the
// caller's mTLS certificate.
type Caller struct {
	AppID       string
	Namespace   string
	TrustDomain string // "public" unless the control plane says otherwise
}

// Allows answers whether the access control of a callee's Configuration lets
// the caller invoke path with the HTTP verb.
//
// It models how daprd decides (pkg/acl and its operation trie; the trie,
// pkg/config/acl_trie.go, is the same in 1.14.4 and 1.18), which
// differs from what the path syntax suggests:
//   - the entries of a policy form a tree of path segments; going down the
//     request's path, the first node that holds an entry decides, so an
//     entry also matches everything below it ("/orders" matches
//     "/orders/1/cancel") and hides any narrower entry under it;
//   - "*" alone matches one segment, and only as the last one ("/a/*/b"
//     matches nothing); "**" matches any number of segments, none included;
//     "*" inside a segment ("prod*") is a glob on that segment;
//   - among entries below the same node, the first one listed that matches
//     wins; a second entry with the same name is ignored;
//   - a verb not listed on the matched entry falls back to the policy's
//     defaultAction (or the global one); HTTP paths compare case-insensitively.
//
// The tests pin this model to the behaviour measured on daprd 1.14.4's own
// code (acl_test.go); see there before changing it. Since 1.15 daprd
// normalizes the method (path.Clean, no control characters, no ? or #)
// before it asks the policy, instead of inside it.
func (acl *AccessControlSpec) Allows(c Caller, verb, path string) bool {
	if acl == nil || (acl.DefaultAction == "" && acl.TrustDomain == "" && len(acl.Policies) == 0) {
		return true
	}
	action := strings.ToLower(acl.DefaultAction)
	if action == "" {
		action = "deny"
	}
	var policy *AppPolicySpec
	for i := range acl.Policies {
		p := &acl.Policies[i]
		// Dapr keys policies by app id and namespace; a later duplicate
		// replaces an earlier one.
		if p.AppID == c.AppID && p.Namespace == c.Namespace {
			policy = p
		}
	}
	if policy == nil || policy.TrustDomain != c.TrustDomain {
		return action == "allow"
	}
	if policy.DefaultAction != "" {
		action = strings.ToLower(policy.DefaultAction)
	}
	if op := policy.match(path); op != nil {
		switch {
		case slices.Contains(op.HTTPVerb, verb):
			action = strings.ToLower(op.Action)
		case slices.Contains(op.HTTPVerb, "*"):
			action = strings.ToLower(op.Action)
		}
	}
	return action == "allow"
}

// match returns the operation entry that decides for path, or nil.
func (p *AppPolicySpec) match(path string) *AppOperationAction {
	return buildTrie(p.Operations).search(normalizeOp(path))
}

func normalizeOp(op string) string {
	if !strings.HasPrefix(op, "/") {
		op = "/" + op
	}
	return strings.ToLower(op)
}

type trieNode struct {
	seg      string // "/name", "/*", "/**" or a glob such as "/prod*"
	op       *AppOperationAction
	children []*trieNode
}

func buildTrie(ops []AppOperationAction) *trieNode {
	root := &trieNode{seg: "/"}
	for i := range ops {
		parts := strings.Split(normalizeOp(ops[i].Name), "/")[1:]
		n := root
		for j, part := range parts {
			seg := "/" + part
			var next *trieNode
			for _, c := range n.children {
				if c.seg == seg {
					next = c
					break
				}
			}
			if next == nil {
				next = &trieNode{seg: seg}
				n.children = append(n.children, next)
			}
			if j == len(parts)-1 && next.op == nil {
				next.op = &ops[i]
			}
			n = next
		}
	}
	return root
}

func (n *trieNode) search(op string) *AppOperationAction {
	parts := strings.Split(op, "/")[1:]
	for i, part := range parts {
		last := i == len(parts)-1
		n = n.child("/"+part, last)
		if n == nil {
			return nil
		}
		if n.op != nil {
			if !last && n.seg == "/*" {
				continue
			}
			return n.op
		}
		if last {
			if w := n.child("/*", true); w != nil && w.op != nil {
				return w.op
			}
		}
	}
	return nil
}

func (n *trieNode) child(seg string, last bool) *trieNode {
	for _, c := range n.children {
		switch {
		case c.seg == seg:
			return c
		case c.seg == "/*":
			if last {
				return c
			}
		case c.seg == "/**":
			return c
		case glob(c.seg, seg):
			return c
		}
	}
	return nil
}

// glob reports whether s matches pattern, where '*' matches any run of
// characters, the empty one included.
func glob(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	if pattern[0] == '*' {
		for i := 0; i <= len(s); i++ {
			if glob(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	}
	return s != "" && s[0] == pattern[0] && glob(pattern[1:], s[1:])
}

// unreachable returns, for each operation entry of the policy that can never
// decide a request, why: a narrower entry under a broader one, a "*" that is
// not the last segment, or a repeated name.
func (p *AppPolicySpec) unreachable() []string {
	var out []string
	seen := map[string]bool{}
	root := buildTrie(p.Operations)
	for i, op := range p.Operations {
		name := normalizeOp(op.Name)
		if seen[name] {
			out = append(out, op.Name+": the same name is listed before; Dapr ignores this entry")
			continue
		}
		seen[name] = true
		// A request this entry is meant for: every wildcard segment
		// replaced by a plain one.
		parts := strings.Split(name, "/")[1:]
		for j, part := range parts {
			if strings.Contains(part, "*") {
				parts[j] = strings.ReplaceAll(part, "*", "x")
			}
		}
		sample := "/" + strings.Join(parts, "/")
		if got := root.search(sample); got != &p.Operations[i] {
			by := "no entry"
			if got != nil {
				by = got.Name
			}
			out = append(out, op.Name+": a request for "+sample+" is decided by "+by)
		}
	}
	return out
}
