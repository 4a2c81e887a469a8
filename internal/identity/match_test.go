package identity

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cutoverhq/cutover/internal/store"
)

func TestMatch(t *testing.T) {
	cases := []struct {
		by        string
		pairs     []string // source → target
		unmatched []string // source: reason
	}{
		{ByEmployeeID,
			[]string{
				"jennifer.garcia@contoso.com → jennifer.garcia@fabrikam.onmicrosoft.com",
				"john.smith@contoso.com → john.smith@fabrikam.onmicrosoft.com",
				"mary.major@contoso.com → mary.major@fabrikam.onmicrosoft.com",
				"patricia.johnson@contoso.com → patricia.johnson@fabrikam.onmicrosoft.com",
				"robert.williams@contoso.com → robert.williams@fabrikam.onmicrosoft.com"},
			[]string{"it.admin@contoso.onmicrosoft.com: no value to match by"}},
		{ByUPNPrefix,
			[]string{
				"jennifer.garcia@contoso.com → jennifer.garcia@fabrikam.onmicrosoft.com",
				"john.smith@contoso.com → john.smith@fabrikam.onmicrosoft.com",
				"mary.major@contoso.com → mary.major@fabrikam.onmicrosoft.com",
				"patricia.johnson@contoso.com → patricia.johnson@fabrikam.onmicrosoft.com",
				"robert.williams@contoso.com → robert.williams@fabrikam.onmicrosoft.com"},
			[]string{"it.admin@contoso.onmicrosoft.com: no target account has it.admin"}},
		{ByMail, nil, []string{
			"it.admin@contoso.onmicrosoft.com: no value to match by",
			"jennifer.garcia@contoso.com: no target account has jennifer.garcia@contoso.com",
			"john.smith@contoso.com: no target account has john.smith@contoso.com",
			"mary.major@contoso.com: no target account has mary.major@contoso.com",
			"patricia.johnson@contoso.com: no target account has patricia.johnson@contoso.com",
			"robert.williams@contoso.com: no target account has robert.williams@contoso.com"}},
	}
	for _, tc := range cases {
		t.Run(tc.by, func(t *testing.T) {
			res, err := Match(context.Background(), fixture(), tc.by, fixtureExclusions)
			if err != nil {
				t.Fatal(err)
			}
			var pairs, unmatched []string
			for _, r := range res.Pairs {
				pairs = append(pairs, r.Source+" → "+r.Target)
			}
			for _, u := range res.Unmatched {
				unmatched = append(unmatched, u.Source.UPN+": "+u.Reason)
			}
			if fmt.Sprint(pairs) != fmt.Sprint(tc.pairs) {
				t.Errorf("pairs:\n%s\nwant:\n%s", strings.Join(pairs, "\n"), strings.Join(tc.pairs, "\n"))
			}
			if fmt.Sprint(unmatched) != fmt.Sprint(tc.unmatched) {
				t.Errorf("unmatched:\n%s\nwant:\n%s", strings.Join(unmatched, "\n"), strings.Join(tc.unmatched, "\n"))
			}
			// linda is already a person; breakglass is excluded.
			if res.Imported != 1 || res.Excluded != 1 {
				t.Errorf("imported %d, excluded %d; want 1, 1", res.Imported, res.Excluded)
			}
		})
	}
}

func TestMatchAmbiguity(t *testing.T) {
	st := fixture()
	on := true
	// A namesake among the target's staff does not hide the staging account...
	st.users = append(st.users, store.InventoryUser{Role: store.Target, ID: id(store.Target, 40),
		UPN: "mary.major@fabrikam.com", AccountEnabled: &on, UserType: "Member"})
	// ...but two source users with one employee number are both left for a person.
	st.users = append(st.users, store.InventoryUser{Role: store.Source, ID: id(store.Source, 40),
		UPN: "j.smith@contoso.com", EmployeeID: "1000002", AccountEnabled: &on, UserType: "Member"})
	res, err := Match(context.Background(), st, ByUPNPrefix, fixtureExclusions)
	if err != nil {
		t.Fatal(err)
	}
	if !hasPair(res, "mary.major@contoso.com", "mary.major@fabrikam.onmicrosoft.com") {
		t.Errorf("mary not paired with her staging account: %+v", res.Pairs)
	}
	res, err = Match(context.Background(), st, ByEmployeeID, fixtureExclusions)
	if err != nil {
		t.Fatal(err)
	}
	if hasPair(res, "john.smith@contoso.com", "john.smith@fabrikam.onmicrosoft.com") {
		t.Error("john paired although j.smith has his employee number")
	}
	want := "target john.smith@fabrikam.onmicrosoft.com fits 2 source users: j.smith@contoso.com, john.smith@contoso.com"
	if n := countReason(res, want); n != 2 {
		t.Errorf("%d unmatched with %q: %+v", n, want, res.Unmatched)
	}
}

func hasPair(res MatchResult, src, tgt string) bool {
	for _, r := range res.Pairs {
		if r.Source == src && r.Target == tgt {
			return true
		}
	}
	return false
}

func countReason(res MatchResult, reason string) int {
	n := 0
	for _, u := range res.Unmatched {
		if u.Reason == reason {
			n++
		}
	}
	return n
}

// TestMatchOutputImports checks the round trip the command is for: its CSV imports as is.
func TestMatchOutputImports(t *testing.T) {
	st := fixture()
	res, err := Match(context.Background(), st, ByEmployeeID, fixtureExclusions)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, res.Pairs); err != nil {
		t.Fatal(err)
	}
	imp, err := Import(context.Background(), st, &buf, ImportOptions{File: "match.csv",
		Exclusions: fixtureExclusions, Now: importTime})
	if err != nil {
		t.Fatalf("import of match output: %v", err)
	}
	if len(imp.Imported) != len(res.Pairs) || len(res.Pairs) != 5 {
		t.Fatalf("imported %d of %d pairs", len(imp.Imported), len(res.Pairs))
	}
}

func TestMatchRejectsUnknownAttribute(t *testing.T) {
	_, err := Match(context.Background(), fixture(), "department", nil)
	if err == nil || !strings.Contains(err.Error(), "mail, employeeId, upn-prefix") {
		t.Fatalf("error = %v", err)
	}
}

func TestWriteCSVDefusesFormulas(t *testing.T) {
	var buf bytes.Buffer
	rows := []Row{{Source: "a@contoso.com", Note: "=HYPERLINK(\"x\")"}, {Source: "b@contoso.com", Note: "plain"}}
	if err := WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	want := "source,target,final,wave,note\na@contoso.com,,,,\"'=HYPERLINK(\"\"x\"\")\"\nb@contoso.com,,,,plain\n"
	if buf.String() != want {
		t.Errorf("got %q\nwant %q", buf.String(), want)
	}
}
