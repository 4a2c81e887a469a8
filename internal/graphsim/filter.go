package graphsim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// filterExpr is a parsed OData $filter. It supports the forms Graph offers on the resources
// the simulator serves: comparisons (eq, ne, ge, le, gt, lt), startsWith and endsWith, in,
// not, and, or, parentheses, member paths (signInActivity/lastSignInDateTime) and the any
// lambda on string collections (methodsRegistered/any(m:m eq 'fido2')).
type filterExpr struct {
	eval func(map[string]any) bool
	// advanced is set when the filter needs ConsistencyLevel: eventual and $count=true
	// (ne, not, endsWith), as Entra's advanced queries do.
	advanced bool
}

func parseFilter(s string) (*filterExpr, error) {
	p := &filterParser{toks: tokenize(s)}
	fe := &filterExpr{}
	p.fe = fe
	ev, err := p.orExpr()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("Invalid filter clause: syntax error at '%s'.", p.toks[p.pos])
	}
	fe.eval = ev
	return fe, nil
}

type filterParser struct {
	toks []string
	pos  int
	fe   *filterExpr
}

func (p *filterParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *filterParser) next() string {
	t := p.peek()
	p.pos++
	return t
}

func (p *filterParser) expect(t string) error {
	if got := p.next(); !strings.EqualFold(got, t) {
		return fmt.Errorf("Invalid filter clause: expected '%s' but found '%s'.", t, got)
	}
	return nil
}

type evalFn = func(map[string]any) bool

func (p *filterParser) orExpr() (evalFn, error) {
	left, err := p.andExpr()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "or") {
		p.next()
		right, err := p.andExpr()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(m map[string]any) bool { return l(m) || right(m) }
	}
	return left, nil
}

func (p *filterParser) andExpr() (evalFn, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "and") {
		p.next()
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(m map[string]any) bool { return l(m) && right(m) }
	}
	return left, nil
}

func (p *filterParser) unary() (evalFn, error) {
	if strings.EqualFold(p.peek(), "not") {
		p.next()
		p.fe.advanced = true
		inner, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(m map[string]any) bool { return !inner(m) }, nil
	}
	return p.primary()
}

func (p *filterParser) primary() (evalFn, error) {
	tok := p.next()
	if tok == "(" {
		e, err := p.orExpr()
		if err != nil {
			return nil, err
		}
		return e, p.expect(")")
	}
	if tok == "" {
		return nil, fmt.Errorf("Invalid filter clause: unexpected end of expression.")
	}

	// Functions: startsWith(prop,'x'), endsWith(prop,'x').
	if fn := strings.ToLower(tok); (fn == "startswith" || fn == "endswith") && p.peek() == "(" {
		p.next()
		path := p.next()
		if err := p.expect(","); err != nil {
			return nil, err
		}
		lit, err := parseLiteral(p.next())
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		want, _ := lit.(string)
		want = strings.ToLower(want)
		if fn == "endswith" {
			p.fe.advanced = true
		}
		return func(m map[string]any) bool {
			v, ok := lookup(m, path).(string)
			if !ok {
				return false
			}
			v = strings.ToLower(v)
			if fn == "startswith" {
				return strings.HasPrefix(v, want)
			}
			return strings.HasSuffix(v, want)
		}, nil
	}

	path := tok
	// Lambda: collection/any(x:x eq 'v') on a string collection, or
	// collection/any(x:x/member eq v) on a collection of objects.
	if i := strings.Index(strings.ToLower(path), "/any"); i > 0 && p.peek() == "(" {
		coll := path[:i]
		p.next()
		v := p.next()
		if err := p.expect(":"); err != nil {
			return nil, err
		}
		member := p.next()
		if rest, ok := strings.CutPrefix(member, v); !ok || (rest != "" && rest[0] != '/') {
			return nil, fmt.Errorf("Invalid filter clause: the lambda body must start with its "+
				"variable '%s', found '%s'.", v, member)
		}
		inner, err := p.comparison(member)
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		return func(m map[string]any) bool {
			for _, item := range anySlice(lookup(m, coll)) {
				if inner(map[string]any{v: item}) {
					return true
				}
			}
			return false
		}, nil
	}
	return p.comparison(path)
}

// comparison parses "op literal" or "in (literals)" after a member path.
func (p *filterParser) comparison(path string) (evalFn, error) {
	op := strings.ToLower(p.next())
	if op == "in" {
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var lits []any
		for {
			lit, err := parseLiteral(p.next())
			if err != nil {
				return nil, err
			}
			lits = append(lits, lit)
			if p.peek() == "," {
				p.next()
				continue
			}
			break
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		if len(lits) > 15 {
			return nil, fmt.Errorf("Too many child clauses specified in search filter expression "+
				"containing 'OR' operators: %d. Max allowed: 15.", len(lits))
		}
		return func(m map[string]any) bool {
			v := lookup(m, path)
			for _, l := range lits {
				if compare(v, l) == 0 {
					return true
				}
			}
			return false
		}, nil
	}
	switch op {
	case "eq", "ne", "ge", "le", "gt", "lt":
	default:
		return nil, fmt.Errorf("Invalid filter clause: unsupported operator '%s'.", op)
	}
	if op == "ne" {
		p.fe.advanced = true
	}
	lit, err := parseLiteral(p.next())
	if err != nil {
		return nil, err
	}
	return func(m map[string]any) bool {
		v := lookup(m, path)
		c := compare(v, lit)
		switch op {
		case "eq":
			return c == 0
		case "ne":
			return c != 0
		case "ge":
			return c == 0 || c == 1
		case "le":
			return c == 0 || c == -1
		case "gt":
			return c == 1
		default:
			return c == -1
		}
	}, nil
}

// compare orders a property value against a literal: -1, 0, 1, or 2 when they cannot be
// compared (which makes every comparison but ne false).
func compare(v, lit any) int {
	switch l := lit.(type) {
	case nil:
		if v == nil || v == "" {
			return 0
		}
		return 2
	case bool:
		b, ok := v.(bool)
		if !ok {
			return 2
		}
		if b == l {
			return 0
		}
		return 2
	case float64:
		f, ok := toFloat(v)
		if !ok {
			return 2
		}
		return cmp3(f < l, f > l)
	case time.Time:
		s, ok := v.(string)
		if !ok {
			return 2
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 2
		}
		return cmp3(t.Before(l), t.After(l))
	case string:
		s, ok := v.(string)
		if !ok {
			return 2
		}
		a, b := strings.ToLower(s), strings.ToLower(l)
		return cmp3(a < b, a > b)
	}
	return 2
}

func cmp3(less, more bool) int {
	switch {
	case less:
		return -1
	case more:
		return 1
	}
	return 0
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func anySlice(v any) []any {
	switch s := v.(type) {
	case []any:
		return s
	case []string:
		out := make([]any, len(s))
		for i, x := range s {
			out[i] = x
		}
		return out
	}
	return nil
}

// lookup resolves a member path such as "signInActivity/lastSignInDateTime".
func lookup(m map[string]any, path string) any {
	var cur any = m
	for _, part := range strings.Split(path, "/") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		v, ok := mm[part]
		if !ok {
			for k, val := range mm {
				if strings.EqualFold(k, part) {
					v, ok = val, true
					break
				}
			}
		}
		if !ok {
			return nil
		}
		cur = v
	}
	return cur
}

func parseLiteral(tok string) (any, error) {
	switch {
	case strings.HasPrefix(tok, "'"):
		if len(tok) < 2 || !strings.HasSuffix(tok, "'") {
			return nil, fmt.Errorf("Invalid filter clause: unterminated string literal.")
		}
		s := strings.ReplaceAll(tok[1:len(tok)-1], "''", "'")
		if len(s) > 120 {
			return nil, fmt.Errorf("Invalid filter clause: the value exceeds 120 characters.")
		}
		return s, nil
	case strings.EqualFold(tok, "true"):
		return true, nil
	case strings.EqualFold(tok, "false"):
		return false, nil
	case strings.EqualFold(tok, "null"):
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, tok); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(tok, 64); err == nil {
		return f, nil
	}
	// A bare GUID compares as a string.
	if len(tok) == 36 && strings.Count(tok, "-") == 4 {
		return tok, nil
	}
	return nil, fmt.Errorf("Invalid filter clause: unrecognised literal '%s'.", tok)
}

// tokenize splits a filter into tokens: quoted strings, punctuation, and words (member
// paths, operators, literals).
func tokenize(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t':
			i++
		case ch == '(' || ch == ')' || ch == ',' || ch == ':':
			toks = append(toks, string(ch))
			i++
		case ch == '\'':
			j := i + 1
			for j < len(s) {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(s))
			toks = append(toks, s[i:end])
			i = end
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t(),'", rune(s[j])) &&
				!(s[j] == ':' && !isTimeColon(s, j)) && !unicode.IsSpace(rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}

// isTimeColon reports whether the colon at j sits inside a date-time literal such as
// 2025-06-07T00:00:00Z, which must stay one token.
func isTimeColon(s string, j int) bool {
	k := j - 1
	for k >= 0 && s[k] >= '0' && s[k] <= '9' {
		k--
	}
	return k >= 0 && k < j-1 && (s[k] == 'T' || s[k] == ':') && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9'
}
