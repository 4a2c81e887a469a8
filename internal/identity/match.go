package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cutoverhq/cutover/internal/store"
)

// Attributes people match can pair accounts by.
const (
	ByMail       = "mail"       // the source mail equals the target account's mail
	ByEmployeeID = "employeeId" // the HR number is the same in both directories
	ByUPNPrefix  = "upn-prefix" // the user name before the @ is the same
)

// MatchAttributes lists the attributes Match accepts.
var MatchAttributes = []string{ByMail, ByEmployeeID, ByUPNPrefix}

// MatchStore is what Match needs from the store.
type MatchStore interface {
	EachInventoryUser(ctx context.Context, role string, fn func(store.InventoryUser) error) error
	InventoryDomains(ctx context.Context, role string) ([]store.InventoryDomain, error)
	PeopleSharing(ctx context.Context, p store.Person) ([]store.Person, error)
}

var _ MatchStore = (*store.Store)(nil)

// Unmatched is a source user Match could not pair, and why.
type Unmatched struct {
	Source store.InventoryUser
	Reason string
}

// MatchResult is what Match proposes.
type MatchResult struct {
	// Pairs are rows in the import format, for people to review and import.
	Pairs []Row
	// Unmatched are the source users left without a pair.
	Unmatched []Unmatched
	// Imported, Excluded and Guests count the source users passed over: already people,
	// excluded by the configuration, or guest accounts (not people who move).
	Imported, Excluded, Guests int
}

// Match proposes a target account for every source member that is not a person yet, by the
// attribute by. A pair is proposed only when exactly one target account fits and no other
// source user claims it; when several fit and exactly one of them is on the target's initial
// domain (where staging accounts live), that one is taken. The final name proposed is the
// source sign-in name when its domain will move to the target, otherwise left for a person
// to fill in. Excluded accounts are never proposed.
func Match(ctx context.Context, st MatchStore, by string, ex Exclusions) (MatchResult, error) {
	key, err := matchKey(by)
	if err != nil {
		return MatchResult{}, err
	}
	targets, initial, err := indexTargets(ctx, st, key, ex)
	if err != nil {
		return MatchResult{}, err
	}
	domains, err := finalDomains(ctx, st)
	if err != nil {
		return MatchResult{}, err
	}
	var res MatchResult
	var proposals []proposal
	err = st.EachInventoryUser(ctx, store.Source, func(u store.InventoryUser) error {
		p, err := propose(ctx, st, &res, u, key(u), targets[key(u)], initial, ex)
		if err == nil && p != nil {
			p.by = by
			proposals = append(proposals, *p)
		}
		return err
	})
	if err != nil {
		return MatchResult{}, fmt.Errorf("match by %s: %w", by, err)
	}
	res.Pairs = pairRows(&res, proposals, domains)
	return res, nil
}

// proposal is a source user with the one target account that fits it.
type proposal struct {
	src, tgt store.InventoryUser
	key, by  string
}

// matchKey returns the function extracting the attribute to match by, normalised.
func matchKey(by string) (func(store.InventoryUser) string, error) {
	switch by {
	case ByMail:
		return func(u store.InventoryUser) string { return strings.ToLower(u.Mail) }, nil
	case ByEmployeeID:
		return func(u store.InventoryUser) string { return strings.TrimSpace(u.EmployeeID) }, nil
	case ByUPNPrefix:
		return func(u store.InventoryUser) string { return localPartOf(u.UPN) }, nil
	}
	return nil, fmt.Errorf("cannot match by %q (use %s)", by, strings.Join(MatchAttributes, ", "))
}

// indexTargets maps each key to the target members that have it. Only the keys and the few
// fields a proposal needs are held. It also returns the target's initial domain.
func indexTargets(ctx context.Context, st MatchStore, key func(store.InventoryUser) string,
	ex Exclusions) (map[string][]store.InventoryUser, string, error) {
	ds, err := st.InventoryDomains(ctx, store.Target)
	if err != nil {
		return nil, "", fmt.Errorf("read target domains: %w", err)
	}
	initial := ""
	for _, d := range ds {
		if d.Initial {
			initial = strings.ToLower(d.Name)
		}
	}
	idx := map[string][]store.InventoryUser{}
	err = st.EachInventoryUser(ctx, store.Target, func(u store.InventoryUser) error {
		if k := key(u); k != "" && !isGuest(u) && !ex.excludesUser(u) {
			idx[k] = append(idx[k], store.InventoryUser{ID: u.ID, UPN: u.UPN, DisplayName: u.DisplayName})
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("read target users: %w", err)
	}
	return idx, initial, nil
}

func isGuest(u store.InventoryUser) bool { return strings.EqualFold(u.UserType, "Guest") }

// finalDomains reads the domains a final name may use.
func finalDomains(ctx context.Context, st MatchStore) ([]string, error) {
	src, err := st.InventoryDomains(ctx, store.Source)
	if err != nil {
		return nil, fmt.Errorf("read source domains: %w", err)
	}
	tgt, err := st.InventoryDomains(ctx, store.Target)
	if err != nil {
		return nil, fmt.Errorf("read target domains: %w", err)
	}
	return domainsFrom(src, tgt).Final, nil
}

// propose picks the target for one source user, or records why there is none.
func propose(ctx context.Context, st MatchStore, res *MatchResult, u store.InventoryUser,
	key string, cands []store.InventoryUser, initial string, ex Exclusions) (*proposal, error) {
	switch {
	case ex.excludesUser(u):
		res.Excluded++
		return nil, nil
	case isGuest(u):
		res.Guests++
		return nil, nil
	}
	if shared, err := st.PeopleSharing(ctx, store.Person{SourceUserID: u.ID}); err != nil {
		return nil, err
	} else if len(shared) > 0 {
		res.Imported++
		return nil, nil
	}
	unmatched := func(format string, args ...any) (*proposal, error) {
		res.Unmatched = append(res.Unmatched, Unmatched{Source: u, Reason: fmt.Sprintf(format, args...)})
		return nil, nil
	}
	if key == "" {
		return unmatched("no value to match by")
	}
	cands = preferInitial(cands, initial)
	switch len(cands) {
	case 0:
		return unmatched("no target account has %s", key)
	case 1:
	default:
		return unmatched("%d target accounts have %s: %s", len(cands), key, upns(cands))
	}
	tgt := cands[0]
	shared, err := st.PeopleSharing(ctx, store.Person{TargetUserID: tgt.ID})
	if err != nil {
		return nil, err
	}
	if len(shared) > 0 {
		return unmatched("target %s already belongs to person %d", tgt.UPN, shared[0].ID)
	}
	return &proposal{src: u, tgt: tgt, key: key}, nil
}

// preferInitial narrows several candidates to the one on the target's initial domain, if
// exactly one is there: the staging account rather than a namesake among the target's staff.
func preferInitial(cands []store.InventoryUser, initial string) []store.InventoryUser {
	if len(cands) < 2 || initial == "" {
		return cands
	}
	var on []store.InventoryUser
	for _, c := range cands {
		if domainOf(c.UPN) == initial {
			on = append(on, c)
		}
	}
	if len(on) == 1 {
		return on
	}
	return cands
}

func upns(us []store.InventoryUser) string {
	names := make([]string, len(us))
	for i, u := range us {
		names[i] = u.UPN
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// pairRows turns proposals into import rows, moving to Unmatched every source user whose
// target another source user also claims.
func pairRows(res *MatchResult, ps []proposal, finalDomains []string) []Row {
	claims := map[string][]store.InventoryUser{}
	for _, p := range ps {
		claims[p.tgt.ID] = append(claims[p.tgt.ID], p.src)
	}
	var rows []Row
	for _, p := range ps {
		if others := claims[p.tgt.ID]; len(others) > 1 {
			res.Unmatched = append(res.Unmatched, Unmatched{Source: p.src, Reason: fmt.Sprintf(
				"target %s fits %d source users: %s", p.tgt.UPN, len(others), upns(others))})
			continue
		}
		row := Row{Source: p.src.UPN, Target: p.tgt.UPN,
			Note: fmt.Sprintf("%s %s: %s / %s", p.by, p.key, p.src.DisplayName, p.tgt.DisplayName)}
		if slices.Contains(finalDomains, domainOf(p.src.UPN)) {
			row.Final = p.src.UPN
		} else {
			row.Note += "; choose a final name: " + domainOf(p.src.UPN) + " stays with the source"
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(res.Unmatched, func(a, b Unmatched) int {
		return strings.Compare(strings.ToLower(a.Source.UPN), strings.ToLower(b.Source.UPN))
	})
	return rows
}
