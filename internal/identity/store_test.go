package identity

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cutoverhq/cutover/internal/store"
)

// openStore opens a real store in a temporary folder holding the fake's inventory, waves and
// people, written with plain SQL as a sync and earlier imports would have left them.
func openStore(t *testing.T, f *fakeStore) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "cutover.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db := st.DB()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	ts := func(tm time.Time) any {
		if tm.IsZero() {
			return nil
		}
		return tm.UTC().Format(time.RFC3339)
	}
	for _, d := range f.domains {
		exec(`INSERT INTO domains (tenant_role, id, is_verified, is_initial, deleted)
			VALUES (?, ?, ?, ?, ?)`, d.Role, d.Name, d.Verified, d.Initial, d.Deleted)
	}
	for _, u := range f.users {
		exec(`INSERT INTO users (tenant_role, id, upn, display_name, mail, employee_id,
			account_enabled, user_type, sessions_valid_from, last_sign_in, deleted)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, u.Role, u.ID, u.UPN, u.DisplayName,
			nullable(u.Mail), nullable(u.EmployeeID), u.AccountEnabled, u.UserType,
			ts(u.SessionsValidFrom), ts(u.LastSignIn), u.Deleted)
	}
	for _, w := range f.waves {
		exec(`INSERT INTO waves (name, window_start, window_end, grace_days, from_config,
			created_at) VALUES (?, ?, ?, ?, ?, ?)`, w.Name, ts(w.WindowStart), ts(w.WindowEnd),
			w.GraceDays, w.FromConfig, ts(importTime))
	}
	if _, err := st.AddPeople(ctx, f.people); err != nil {
		t.Fatal(err)
	}
	return st
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TestFakeMatchesStore imports every corpus file into the fake and into a real store holding
// the same data: the outcome (problems, or the people added) must be the same, so that the
// corpus's golden messages hold for the product as well.
func TestFakeMatchesStore(t *testing.T) {
	bad, _ := filepath.Glob("testdata/bad/*.csv")
	good, _ := filepath.Glob("testdata/good/*.csv")
	for _, path := range append(bad, good...) {
		for _, skip := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/skip=%v", path, skip), func(t *testing.T) {
				fake := fixture()
				real := openStore(t, fixture())
				opts := ImportOptions{SkipInvalid: skip}
				fres, ferr := importFile(t, fake, path, opts)
				rres, rerr := importFile(t, real, path, opts)
				if fmt.Sprint(ferr) != fmt.Sprint(rerr) {
					t.Fatalf("fake: %v\nstore: %v", ferr, rerr)
				}
				if fmt.Sprint(fres) != fmt.Sprint(rres) {
					t.Fatalf("fake: %+v\nstore: %+v", fres, rres)
				}
				assertStoredPeople(t, real, fake.people)
			})
		}
	}
}

func assertStoredPeople(t *testing.T, st *store.Store, want []store.Person) {
	t.Helper()
	views, err := st.People(context.Background(), store.PeopleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]store.Person{}
	for _, v := range views {
		got[v.ID] = v.Person
	}
	if len(got) != len(want) {
		t.Fatalf("store holds %d people, want %d", len(got), len(want))
	}
	for _, w := range want {
		if got[w.ID] != w {
			t.Errorf("person %d = %+v\nwant %+v", w.ID, got[w.ID], w)
		}
	}
}

// TestStoreImportIsAllOrNothing makes the store fail half way through a transaction: none of
// the rows may remain.
func TestStoreImportIsAllOrNothing(t *testing.T) {
	st := openStore(t, fixture())
	ctx := context.Background()
	_, err := st.AddPeople(ctx, []store.Person{
		{SourceUserID: id(store.Source, 1), FinalUPN: "a@contoso.com", ImportedAt: importTime},
		{SourceUserID: id(store.Source, 2), FinalUPN: "A@contoso.com", ImportedAt: importTime},
	})
	if err == nil {
		t.Fatal("duplicate final names were accepted")
	}
	views, err := st.People(ctx, store.PeopleFilter{})
	if err != nil || len(views) != 1 {
		t.Fatalf("%d people after a failed import (%v), want the 1 from before", len(views), err)
	}
}
