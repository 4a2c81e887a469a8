package identity

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cutoverhq/cutover/internal/store"
)

func TestLookupAdvice(t *testing.T) {
	st := openStore(t, fixture())
	ctx := context.Background()
	start := time.Date(2026, 6, 6, 17, 0, 0, 0, time.UTC)
	cases := []struct {
		now   time.Time
		phase string
		use   string
	}{
		{start.Add(-time.Hour), "planned", "the source tenant as linda.brown@contoso.com; register Authenticator in the target as linda.brown@fabrikam.onmicrosoft.com"},
		{start.Add(time.Hour), "in window", "migration window in progress"},
		{start.Add(48 * time.Hour), "grace", "the target tenant as linda.brown@contoso.com"},
		{start.AddDate(0, 0, 15), "grace over", "the target tenant as linda.brown@contoso.com"},
	}
	for _, tc := range cases {
		t.Run(tc.phase, func(t *testing.T) {
			s, err := Lookup(ctx, st, "linda.brown@fabrikam.onmicrosoft.com", tc.now)
			if err != nil {
				t.Fatal(err)
			}
			if s.Wave.Phase != tc.phase || !strings.HasPrefix(s.Use, tc.use) {
				t.Errorf("phase %q, use %q; want %q, %q", s.Wave.Phase, s.Use, tc.phase, tc.use)
			}
			if s.Target == nil || s.Target.ID != id(store.Target, 5) || s.Source.UPN != "linda.brown@contoso.com" {
				t.Errorf("accounts: %+v %+v", s.Source, s.Target)
			}
		})
	}
}

func TestLookupErrors(t *testing.T) {
	f := fixture()
	// Two people share nothing but a mail: a lookup by that mail is ambiguous.
	f.users[0].Mail = "shared@contoso.com"
	f.users[2].Mail = "shared@contoso.com"
	f.people = append(f.people,
		store.Person{ID: 2, SourceUserID: id(store.Source, 1), FinalUPN: "mary.major@contoso.com", ImportedAt: importTime},
		store.Person{ID: 3, SourceUserID: id(store.Source, 2), FinalUPN: "john.smith@contoso.com", ImportedAt: importTime})
	st := openStore(t, f)
	cases := []struct{ key, err string }{
		{"shared@contoso.com", "shared@contoso.com names 2 people: 2 (mary.major@contoso.com), 3 (john.smith@contoso.com); use a person id"},
		{"jennifer.garcia@contoso.com", "is a source account (Jennifer Garcia) but not a person"},
		{"nobody", "no person is known as nobody"},
	}
	for _, tc := range cases {
		_, err := Lookup(context.Background(), st, tc.key, importTime)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want %q", tc.key, err, tc.err)
		}
	}
	s, err := Lookup(context.Background(), st, "2", importTime)
	if err != nil || s.Target != nil || s.Wave != nil || !strings.Contains(s.Use, "not in a wave yet") {
		t.Errorf("person without target or wave: %+v, %v", s, err)
	}
}
