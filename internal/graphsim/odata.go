package graphsim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// listSpec describes a collection a handler serves.
type listSpec struct {
	// context is the @odata.context fragment, such as "users".
	context string
	// typeName is the type named in "could not find a property" errors.
	typeName string
	// total is the number of candidate items, in listing order.
	total int
	// item returns the full property map of candidate i, or nil if it is gone.
	item func(i int) map[string]any
	// defaults is the property set returned without $select; nil returns every property.
	defaults []string
	// known is the set of selectable properties; nil allows any property item returns.
	known map[string]bool
	// defaultTop and maxTop bound the page size (defaults 100 and 999).
	defaultTop, maxTop int
	// filter, when set, filters items; otherwise $filter is refused.
	filterable bool
	// countable allows $count=true with ConsistencyLevel: eventual.
	countable bool
}

// list serves one page of a collection with $select, $top, $filter, $count and
// @odata.nextLink paging through an opaque $skiptoken.
func (c *call) list(spec listSpec) {
	if spec.defaultTop == 0 {
		spec.defaultTop = 100
	}
	if spec.maxTop == 0 {
		spec.maxTop = 999
	}

	top := spec.defaultTop
	if v := c.query.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > spec.maxTop {
			c.fail(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf(
				"Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", v, spec.maxTop))
			return
		}
		top = n
	}
	if c.query.Has("$skip") {
		c.fail(http.StatusBadRequest, "Request_BadRequest",
			"'$skip' is not supported by the service.")
		return
	}

	sel, ok := c.selectList(spec)
	if !ok {
		return
	}

	match := func(map[string]any) bool { return true }
	if f := c.query.Get("$filter"); f != "" {
		if !spec.filterable {
			c.fail(http.StatusBadRequest, "Request_UnsupportedQuery",
				"The $filter query option is not supported on this resource.")
			return
		}
		expr, err := parseFilter(f)
		if err != nil {
			c.fail(http.StatusBadRequest, "Request_UnsupportedQuery", err.Error())
			return
		}
		if expr.advanced && !c.advancedQuery() {
			c.fail(http.StatusBadRequest, "Request_UnsupportedQuery",
				"Unsupported or invalid query filter clause specified for property "+
					"or it requires ConsistencyLevel:eventual and $count=true.")
			return
		}
		match = expr.eval
	}

	wantCount := strings.EqualFold(c.query.Get("$count"), "true")
	if wantCount && (!spec.countable || !c.eventual()) {
		c.fail(http.StatusBadRequest, "Request_BadRequest",
			"$count is not currently supported without the ConsistencyLevel: eventual header.")
		return
	}

	start := 0
	if tok := c.query.Get("$skiptoken"); tok != "" {
		n, err := decodeSkipToken(tok)
		if err != nil || n > spec.total {
			c.fail(http.StatusBadRequest, "Request_BadRequest", "The specified page token value has expired "+
				"or is invalid and can no longer be used.")
			return
		}
		start = n
	}

	resp := map[string]any{"@odata.context": c.contextURL(spec.context)}
	if wantCount && start == 0 {
		n := 0
		for i := 0; i < spec.total; i++ {
			if it := spec.item(i); it != nil && match(it) {
				n++
			}
		}
		resp["@odata.count"] = n
	}

	value := make([]map[string]any, 0, min(top, 1000))
	i := start
	// An empty page with a next link is legal Graph behaviour; clients must keep following.
	empty := start < spec.total && c.s.opts.EmptyPageRate > 0 && c.s.rng.Float64() < c.s.opts.EmptyPageRate
	if !empty {
		for ; i < spec.total && len(value) < top; i++ {
			it := spec.item(i)
			if it == nil || !match(it) {
				continue
			}
			value = append(value, project(it, sel))
		}
	}
	resp["value"] = value
	if i < spec.total {
		resp["@odata.nextLink"] = c.nextLink(i)
	}
	c.json(http.StatusOK, resp)
}

// advancedQuery reports whether the request opts into Entra's advanced query capabilities.
func (c *call) advancedQuery() bool {
	return c.eventual() && strings.EqualFold(c.query.Get("$count"), "true")
}

func (c *call) eventual() bool {
	return strings.EqualFold(c.r.Header.Get("ConsistencyLevel"), "eventual")
}

// selectList validates $select against the known properties and returns the properties to
// emit (nil means the defaults or everything).
func (c *call) selectList(spec listSpec) ([]string, bool) {
	raw := c.query.Get("$select")
	if raw == "" {
		return spec.defaults, true
	}
	var sel []string
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if spec.known != nil && !spec.known[p] {
			canon := ""
			for k := range spec.known {
				if strings.EqualFold(k, p) {
					canon = k
				}
			}
			if canon == "" {
				c.fail(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf(
					"Could not find a property named '%s' on type '%s'.", p, spec.typeName))
				return nil, false
			}
			p = canon
		}
		sel = append(sel, p)
	}
	return sel, true
}

// project keeps the selected properties of a full property map; nil keeps all.
func project(full map[string]any, sel []string) map[string]any {
	if sel == nil {
		return full
	}
	out := make(map[string]any, len(sel)+1)
	if t, ok := full["@odata.type"]; ok {
		out["@odata.type"] = t
	}
	for _, k := range sel {
		if v, ok := full[k]; ok {
			out[k] = v
		} else {
			out[k] = nil
		}
	}
	return out
}

// getOne serves a single entity with $select.
func (c *call) getOne(spec listSpec, full map[string]any) {
	sel, ok := c.selectList(spec)
	if !ok {
		return
	}
	out := project(full, sel)
	out["@odata.context"] = c.contextURL(spec.context + "/$entity")
	c.json(http.StatusOK, out)
}

// nextLink builds the link to the page starting at offset, keeping every other query option.
func (c *call) nextLink(offset int) string {
	q := make([]string, 0, len(c.query)+1)
	keys := make([]string, 0, len(c.query))
	for k := range c.query {
		if k != "$skiptoken" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range c.query[k] {
			q = append(q, queryEscape(k)+"="+queryEscape(v))
		}
	}
	q = append(q, "$skiptoken="+encodeSkipToken(offset))
	return c.s.baseURL + c.r.URL.Path + "?" + strings.Join(q, "&")
}

// queryEscape escapes a query component for a next link, with %20 for spaces, as Graph's
// own links have them.
func queryEscape(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}

// Skip tokens are opaque to clients: an offset in the collection's listing order, wrapped
// in a checksum so that an edited or rebuilt token is refused rather than misread.
func encodeSkipToken(offset int) string {
	raw := fmt.Sprintf("RFNwdAIAAQAAA%d:%d", offset, offset*7919%65521)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeSkipToken(tok string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, err
	}
	s, ok := strings.CutPrefix(string(b), "RFNwdAIAAQAAA")
	if !ok {
		return 0, fmt.Errorf("bad token")
	}
	a, sum, ok := strings.Cut(s, ":")
	if !ok {
		return 0, fmt.Errorf("bad token")
	}
	n, err := strconv.Atoi(a)
	if err != nil || n < 0 || strconv.Itoa(n*7919%65521) != sum {
		return 0, fmt.Errorf("bad token")
	}
	return n, nil
}

// stringSet builds a set from property names.
func stringSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
