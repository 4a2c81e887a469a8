package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder walks a YAML node tree and collects every problem it meets. It never stops at the
// first problem: each helper records what is wrong and returns a zero value, and the walk
// goes on with the next key.
type decoder struct {
	file string
	errs Errors
}

func (d *decoder) errorf(line int, key, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// fields is a decoded mapping: its known keys' value nodes, and where the mapping is.
type fields struct {
	key   string // the mapping's own path
	line  int    // the line of the mapping's key, for "missing" problems
	nodes map[string]*yaml.Node
	// suggested holds the keys offered for misspelt ones: a key already reported as
	// misspelt is not reported again as missing.
	suggested map[string]bool
}

// get returns the value node of name, or nil when the key is absent or its value is null
// (an empty "key:" line means "not set", as in most YAML tools).
func (f fields) get(name string) *yaml.Node {
	n := f.nodes[name]
	if n == nil || isNull(n) {
		return nil
	}
	return n
}

// path returns the dotted path of a child key.
func (f fields) path(name string) string { return join(f.key, name) }

func join(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func indexed(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// resolve follows aliases, so that anchors work anywhere a value is expected.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// mapping decodes a mapping whose keys must be among allowed. Unknown and duplicate keys are
// problems; an unknown key close to an allowed one gets a suggestion.
func (d *decoder) mapping(n *yaml.Node, key string, line int, allowed []string) (fields, bool) {
	f := fields{key: key, line: line, nodes: map[string]*yaml.Node{}, suggested: map[string]bool{}}
	n = resolve(n)
	if n == nil || isNull(n) {
		return f, true
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, key, "want a mapping of %s, got %s", allowedList(allowed), describe(n))
		return f, false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			d.errorf(n.Content[i].Line, key, "keys must be plain words, got %s", describe(k))
			continue
		}
		name := k.Value
		if first, dup := seen[name]; dup {
			d.errorf(k.Line, join(key, name), "duplicate key (first at line %d)", first)
			continue
		}
		seen[name] = k.Line
		if !contains(allowed, name) {
			if s := d.unknownKey(k, key, allowed); s != "" {
				f.suggested[s] = true
			}
			continue
		}
		if v = resolve(v); v == nil {
			continue
		}
		f.nodes[name] = v
	}
	return f, true
}

// unknownKey reports a key that is not allowed and returns the suggestion it made, if any.
func (d *decoder) unknownKey(k *yaml.Node, parent string, allowed []string) string {
	name := k.Value
	if s := suggest(name, allowed); s != "" {
		d.errorf(k.Line, join(parent, name), "unknown key (did you mean %q?)", s)
		return s
	}
	d.errorf(k.Line, join(parent, name), "unknown key (allowed: %s)", allowedList(allowed))
	return ""
}

// require records a problem when a required key is absent or null.
func (d *decoder) require(f fields, name, what string) *yaml.Node {
	n := f.get(name)
	if n == nil && !f.suggested[name] {
		line := f.line
		if v := f.nodes[name]; v != nil {
			line = v.Line
		}
		d.errorf(line, f.path(name), "required: %s", what)
	}
	return n
}

// str decodes a scalar as text. Numbers and booleans are taken as written, so that a
// tenant named 1234 or a secret variable named TRUE are not refused for their YAML type.
func (d *decoder) str(n *yaml.Node, key string) (string, bool) {
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n.Line, key, "want a single value, got %s", describe(n))
		return "", false
	}
	return strings.TrimSpace(n.Value), true
}

// enum decodes a scalar that must be one of allowed, compared case-insensitively.
func (d *decoder) enum(n *yaml.Node, key, noun string, allowed []string) (string, bool) {
	s, ok := d.str(n, key)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if strings.EqualFold(a, s) {
			return a, true
		}
	}
	msg := fmt.Sprintf("unknown %s %q (allowed: %s)", noun, s, allowedList(allowed))
	if sug := suggest(s, allowed); sug != "" {
		msg = fmt.Sprintf("unknown %s %q (did you mean %q? allowed: %s)", noun, s, sug,
			allowedList(allowed))
	}
	d.errorf(n.Line, key, "%s", msg)
	return "", false
}

func (d *decoder) boolean(n *yaml.Node, key string) (bool, bool) {
	if n == nil {
		return false, false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	d.errorf(n.Line, key, "want true or false, got %s", describe(n))
	return false, false
}

// integer decodes a whole number within [lo, hi].
func (d *decoder) integer(n *yaml.Node, key string, lo, hi int) (int, bool) {
	if n == nil {
		return 0, false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err == nil && v >= int64(lo) && v <= int64(hi) {
			return int(v), true
		}
	}
	d.errorf(n.Line, key, "want a whole number from %d to %d, got %s", lo, hi, describe(n))
	return 0, false
}

// number decodes a positive finite number.
func (d *decoder) number(n *yaml.Node, key string) (float64, bool) {
	if n == nil {
		return 0, false
	}
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err == nil && v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
			return v, true
		}
	}
	d.errorf(n.Line, key, "want a number above 0, got %s", describe(n))
	return 0, false
}

// sequence returns the items of a list; null is an empty list.
func (d *decoder) sequence(n *yaml.Node, key string) []*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, key, "want a list, got %s", describe(n))
		return nil
	}
	items := make([]*yaml.Node, 0, len(n.Content))
	for _, it := range n.Content {
		items = append(items, resolve(it))
	}
	return items
}

// describe names what a node is, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.AliasNode:
		return "an alias"
	case isNull(n):
		return "nothing"
	}
	v := []rune(n.Value)
	if len(v) > 40 {
		v = append(v[:40], '…')
	}
	return strconv.Quote(string(v))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
