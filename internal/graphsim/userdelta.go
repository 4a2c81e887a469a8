package graphsim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// deltaTokenLifetime is how long a directory delta or next link stays usable (Graph: seven
// days for directory objects); after that the client must sync from scratch.
const deltaTokenLifetime = 7 * 24 * time.Hour

// deltaState is what a users/delta link carries. Delta walks the tenant's change log: one
// round reports every user whose latest change falls in (Since, Upto], each once, with its
// current properties; Cursor is how far the round has read. The first round (Since 0)
// reports every existing user. Query options of the first call travel in the links.
type deltaState struct {
	Tenant string   `json:"t"`
	Since  int64    `json:"s"`
	Upto   int64    `json:"u,omitempty"`
	Cursor int64    `json:"c,omitempty"`
	Select []string `json:"f,omitempty"`
	IDs    []string `json:"i,omitempty"`
	Issued int64    `json:"a"` // simulated Unix time the link was issued
}

// encode makes the state an opaque token: base64url JSON with a checksum, so an edited
// token is refused rather than misread.
func (st deltaState) encode() string {
	b, _ := json.Marshal(st)
	sum := sha256.Sum256(append([]byte("graphsim delta "), b...))
	return base64.RawURLEncoding.EncodeToString(append(b, sum[:8]...))
}

func decodeDeltaState(tok string) (deltaState, error) {
	var st deltaState
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 9 {
		return st, fmt.Errorf("malformed token")
	}
	payload, sum := b[:len(b)-8], b[len(b)-8:]
	want := sha256.Sum256(append([]byte("graphsim delta "), payload...))
	if string(want[:8]) != string(sum) {
		return st, fmt.Errorf("bad token checksum")
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		return st, fmt.Errorf("decode token: %w", err)
	}
	return st, nil
}

// userDelta serves GET /users/delta: the first call (with its query options), a next link
// ($skiptoken) inside a round, or a delta link ($deltatoken) that starts the next round.
func (s *Server) userDelta(c *call) {
	st, ok := c.deltaRound()
	if !ok {
		return
	}
	size := preferredPageSize(c.r.Header.Get("Prefer"), 100)
	value := make([]map[string]any, 0, min(size, 200))
	t := c.tenant
	for st.Cursor < st.Upto && len(value) < size {
		st.Cursor++
		if item := t.deltaItem(t.changes[st.Cursor-1], st); item != nil {
			value = append(value, item)
		}
	}

	st.Issued = c.now.Unix()
	resp := map[string]any{"@odata.context": c.contextURL("users"), "value": value}
	link := c.s.baseURL + c.r.URL.Path + "?"
	if st.Cursor < st.Upto {
		resp["@odata.nextLink"] = link + "$skiptoken=" + st.encode()
	} else {
		next := deltaState{Tenant: st.Tenant, Since: st.Upto, Select: st.Select, IDs: st.IDs,
			Issued: st.Issued}
		resp["@odata.deltaLink"] = link + "$deltatoken=" + next.encode()
	}
	c.json(http.StatusOK, resp)
}

// deltaRound works out which round and position this call serves, answering 400 when the
// query or a token is refused.
func (c *call) deltaRound() (deltaState, bool) {
	t := c.tenant
	latest := int64(len(t.changes))
	skip, delta := c.query.Get("$skiptoken"), c.query.Get("$deltatoken")
	switch {
	case skip != "":
		return c.deltaToken(skip)
	case delta != "" && !strings.EqualFold(delta, "latest"):
		st, ok := c.deltaToken(delta)
		st.Upto, st.Cursor = latest, st.Since
		return st, ok
	}

	// A first call: its query options are fixed for every later link.
	st := deltaState{Tenant: t.ID, Upto: latest}
	if c.query.Get("$select") != "" {
		sel, ok := c.selectList(listSpec{known: userSelectable,
			typeName: "Microsoft.DirectoryServices.User"})
		if !ok {
			return st, false
		}
		if !slices.Contains(sel, "id") {
			sel = append(sel, "id")
		}
		st.Select = sel
	}
	if f := c.query.Get("$filter"); f != "" {
		ids, err := parseDeltaIDFilter(f)
		if err != nil {
			c.fail(http.StatusBadRequest, "Request_UnsupportedQuery", err.Error())
			return st, false
		}
		st.IDs = ids
	}
	// $deltatoken=latest skips the initial sync: an empty page and a link to what follows.
	if delta != "" {
		st.Since, st.Cursor = latest, latest
	}
	return st, true
}

// deltaToken decodes a link's token, refusing one that is damaged, from another tenant or
// expired, as Graph does with syncStateNotFound.
func (c *call) deltaToken(tok string) (deltaState, bool) {
	st, err := decodeDeltaState(tok)
	if err == nil && st.Tenant != c.tenant.ID {
		err = fmt.Errorf("token of another tenant")
	}
	if err == nil && (st.Since > int64(len(c.tenant.changes)) || st.Cursor > st.Upto ||
		st.Upto > int64(len(c.tenant.changes))) {
		err = fmt.Errorf("token beyond the change log")
	}
	if err != nil {
		c.fail(http.StatusBadRequest, "syncStateNotFound",
			"The sync state generation is not found. Please restart the sync from the beginning.")
		return st, false
	}
	if c.now.Sub(time.Unix(st.Issued, 0)) > deltaTokenLifetime {
		c.fail(http.StatusBadRequest, "syncStateNotFound",
			"The sync state has expired. Please restart the sync from the beginning.")
		return st, false
	}
	return st, true
}

// deltaItem returns what the change ch contributes to a round: the user's current state if
// ch is the user's latest change (a user changed again after the round began is left to the
// next round, which will report it), a removal notice if ch deleted the user, or nil.
func (t *Tenant) deltaItem(ch userChange, st deltaState) map[string]any {
	if len(st.IDs) > 0 && !containsFoldString(st.IDs, ch.userID) {
		return nil
	}
	u := t.users[ch.userID]
	switch {
	case u == nil && ch.removed && st.Since > 0:
		// Graph soft-deletes users, which delta reports as "changed"; "deleted" would mean a
		// permanent deletion, which the simulator does not model.
		return map[string]any{"id": ch.userID, "@removed": map[string]any{"reason": "changed"}}
	case u == nil || u.lastChange != ch.seq:
		return nil
	}
	sel := st.Select
	if sel == nil {
		sel = userDefaults
	}
	return project(u.props(), sel)
}

var (
	deltaIDClause = regexp.MustCompile(`(?i)^\s*id\s+eq\s+'([^']+)'\s*$`)
	deltaOr       = regexp.MustCompile(`(?i)\s+or\s+`)
)

// parseDeltaIDFilter accepts the only filter users/delta supports: id eq '…', joined by or,
// at most 50 ids.
func parseDeltaIDFilter(f string) ([]string, error) {
	var ids []string
	for _, clause := range deltaOr.Split(f, -1) {
		m := deltaIDClause.FindStringSubmatch(clause)
		if m == nil {
			return nil, fmt.Errorf("Unsupported query: delta on users supports only filters of " +
				"the form id eq '{id}', joined by or.")
		}
		ids = append(ids, m[1])
	}
	if len(ids) > 50 {
		return nil, fmt.Errorf("Too many ids in the filter: %d. Max allowed: 50.", len(ids))
	}
	return ids, nil
}

// preferredPageSize reads Prefer: odata.maxpagesize=N, bounded to 1..999.
func preferredPageSize(prefer string, def int) int {
	for _, p := range strings.Split(prefer, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "odata.maxpagesize") {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 1 {
			return min(n, 999)
		}
	}
	return def
}

func containsFoldString(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
