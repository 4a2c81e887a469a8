package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cutoverhq/cutover/internal/store"
)

// fakeStore is an in-memory stand-in for *store.Store with the same lookup rules (names
// compare without regard to case, ids are lowercase) and the same uniqueness constraints on
// people. TestFakeMatchesStore checks it against the real store.
type fakeStore struct {
	users   []store.InventoryUser
	domains []store.InventoryDomain
	waves   []store.Wave
	people  []store.Person
	// adds counts AddPeople calls that changed something.
	adds int
}

var _ ImportStore = (*fakeStore)(nil)

func (f *fakeStore) InventoryUser(_ context.Context, role, key string) (store.InventoryUser, bool, error) {
	var found *store.InventoryUser
	for i, u := range f.users {
		if u.Role == role && (u.ID == strings.ToLower(key) || strings.EqualFold(u.UPN, key)) {
			if found == nil || found.Deleted && !u.Deleted {
				found = &f.users[i]
			}
		}
	}
	if found == nil {
		return store.InventoryUser{}, false, nil
	}
	return *found, true, nil
}

func (f *fakeStore) InventoryUsersNamed(_ context.Context, role, name string) ([]store.InventoryUser, error) {
	var out []store.InventoryUser
	for _, u := range f.users {
		if u.Role == role && !u.Deleted && (strings.EqualFold(u.UPN, name) || strings.EqualFold(u.Mail, name)) {
			out = append(out, u)
		}
	}
	return out, nil
}

func (f *fakeStore) EachInventoryUser(_ context.Context, role string, fn func(store.InventoryUser) error) error {
	users := slices.Clone(f.users) // the store lists by sign-in name, without regard to case
	slices.SortStableFunc(users, func(a, b store.InventoryUser) int {
		return strings.Compare(strings.ToLower(a.UPN), strings.ToLower(b.UPN))
	})
	for _, u := range users {
		if u.Role == role && !u.Deleted {
			if err := fn(u); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *fakeStore) InventoryDomains(_ context.Context, role string) ([]store.InventoryDomain, error) {
	var out []store.InventoryDomain
	for _, d := range f.domains {
		if d.Role == role && !d.Deleted {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *fakeStore) Waves(context.Context) ([]store.Wave, error) {
	return append([]store.Wave(nil), f.waves...), nil
}

func (f *fakeStore) PeopleSharing(_ context.Context, p store.Person) ([]store.Person, error) {
	var out []store.Person
	for _, e := range f.people {
		if e.SourceUserID == p.SourceUserID ||
			p.TargetUserID != "" && e.TargetUserID == p.TargetUserID ||
			p.StagingUPN != "" && strings.EqualFold(e.StagingUPN, p.StagingUPN) ||
			strings.EqualFold(e.FinalUPN, p.FinalUPN) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeStore) AddPeople(ctx context.Context, ps []store.Person) ([]int64, error) {
	next := append([]store.Person(nil), f.people...)
	ids := make([]int64, len(ps))
	for i, p := range ps {
		shared, _ := (&fakeStore{people: next}).PeopleSharing(ctx, p)
		if len(shared) > 0 {
			return nil, fmt.Errorf("add person %s: UNIQUE constraint failed", p.SourceUserID)
		}
		p.ID = int64(len(next) + 1)
		ids[i] = p.ID
		next = append(next, p)
	}
	f.people = next
	f.adds++
	return ids, nil
}

// id makes a readable, lowercase object id for fixtures.
func id(role string, n int) string {
	prefix := "5000"
	if role == store.Target {
		prefix = "7000"
	}
	return fmt.Sprintf("%s0000-0000-4000-8000-%012d", prefix, n)
}

// fixture builds the inventory the corpus is written against: a Contoso source whose
// contoso.com domain will move, and a Fabrikam target with staging accounts on its initial
// domain, one of its own staff, two waves and one person already imported.
func fixture() *fakeStore {
	f := &fakeStore{}
	dom := func(role, name string, verified, initial bool) {
		f.domains = append(f.domains, store.InventoryDomain{Role: role, Name: name,
			Verified: verified, Initial: initial})
	}
	dom(store.Source, "contoso.onmicrosoft.com", true, true)
	dom(store.Source, "contoso.com", true, false)
	dom(store.Source, "contoso-legacy.com", false, false)
	dom(store.Target, "fabrikam.onmicrosoft.com", true, true)
	dom(store.Target, "fabrikam.com", true, false)

	user := func(role string, n int, upn, mail, employeeID string, deleted bool) {
		on := true
		f.users = append(f.users, store.InventoryUser{Role: role, ID: id(role, n), UPN: upn,
			DisplayName: displayName(upn), Mail: mail, EmployeeID: employeeID,
			AccountEnabled: &on, UserType: "Member", Deleted: deleted})
	}
	for i, alias := range []string{"mary.major", "john.smith", "patricia.johnson",
		"robert.williams", "linda.brown", "jennifer.garcia"} {
		user(store.Source, i+1, alias+"@contoso.com", alias+"@contoso.com",
			fmt.Sprintf("100%04d", i+1), false)
		user(store.Target, i+1, alias+"@fabrikam.onmicrosoft.com", "",
			fmt.Sprintf("100%04d", i+1), false)
	}
	user(store.Source, 20, "breakglass1@contoso.onmicrosoft.com", "", "", false)
	user(store.Source, 21, "it.admin@contoso.onmicrosoft.com", "", "", false)
	user(store.Source, 22, "old.user@contoso.com", "old.user@contoso.com", "1009999", true)
	user(store.Target, 20, "breakglass1@fabrikam.onmicrosoft.com", "", "", false)
	user(store.Target, 21, "james.taylor@fabrikam.com", "james.taylor@fabrikam.com", "F1000001", false)
	user(store.Target, 22, "gone@fabrikam.onmicrosoft.com", "", "", true)
	user(store.Target, 23, "sales@fabrikam.com", "team.sales@fabrikam.com", "", false)

	start := time.Date(2026, 6, 6, 17, 0, 0, 0, time.UTC)
	f.waves = []store.Wave{
		{Name: "wave-1", WindowStart: start, WindowEnd: start.Add(36 * time.Hour), GraceDays: 14, FromConfig: true},
		{Name: "wave-2", WindowStart: start.Add(7 * 24 * time.Hour),
			WindowEnd: start.Add(7*24*time.Hour + 36*time.Hour), GraceDays: 14},
	}
	f.people = []store.Person{{ID: 1, SourceUserID: id(store.Source, 5),
		TargetUserID: id(store.Target, 5), StagingUPN: "linda.brown@fabrikam.onmicrosoft.com",
		FinalUPN: "linda.brown@contoso.com", Wave: "wave-1", ImportedAt: start.Add(-30 * 24 * time.Hour)}}
	return f
}

// fixtureExclusions are the fixture's break-glass accounts.
var fixtureExclusions = NewExclusions([]string{"breakglass1@contoso.onmicrosoft.com",
	id(store.Target, 20)})

func displayName(upn string) string {
	local, _, _ := strings.Cut(upn, "@")
	parts := strings.Split(local, ".")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, " ")
}
