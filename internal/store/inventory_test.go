package store

import (
	"context"
	"testing"
)

func countRows(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFullSyncMarksUnseenRowsDeleted(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	enabled := true
	users := []User{
		{ID: "u1", UPN: "ada@contoso.com", AccountEnabled: &enabled},
		{ID: "u2", UPN: "bob@contoso.com"},
		{ID: "u3", UPN: "cy@contoso.com"},
	}
	st, err := s.BeginSync(ctx, Source, Users)
	if err != nil || st.Generation != 1 || st.DeltaLink != "" {
		t.Fatalf("first BeginSync = %+v, %v", st, err)
	}
	if err := s.PutUsers(ctx, Source, st.Generation, users); err != nil {
		t.Fatal(err)
	}
	// The target has a user too; a source sync must never touch it.
	if err := s.PutUsers(ctx, Target, 1, []User{{ID: "t1", UPN: "t1@fabrikam.com"}}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.FinishSync(ctx, Source, Users, st.Generation, true, "https://delta/1"); err != nil ||
		r.Count != 3 || r.Deleted != 0 {
		t.Fatalf("first FinishSync = %+v, %v", r, err)
	}

	// Second sync lists u1 and u3 only (u2 is gone), with u3 changed.
	st, err = s.BeginSync(ctx, Source, Users)
	if err != nil || st.Generation != 2 || st.DeltaLink != "https://delta/1" {
		t.Fatalf("second BeginSync = %+v, %v", st, err)
	}
	users[2].DisplayName = "Cy"
	if err := s.PutUsers(ctx, Source, st.Generation, []User{users[0], users[2]}); err != nil {
		t.Fatal(err)
	}
	r, err := s.FinishSync(ctx, Source, Users, st.Generation, true, "")
	if err != nil || r.Count != 2 || r.Deleted != 1 {
		t.Fatalf("second FinishSync = %+v, %v; want count 2, deleted 1", r, err)
	}
	if n := countRows(t, s, `SELECT count(*) FROM users WHERE id = 'u2' AND deleted = 1`); n != 1 {
		t.Error("u2 not marked deleted")
	}
	if n := countRows(t, s, `SELECT count(*) FROM users WHERE id = 't1' AND deleted = 0`); n != 1 {
		t.Error("the target's user was touched by a source sync")
	}
	if n := countRows(t, s, `SELECT count(*) FROM users WHERE id = 'u3' AND display_name = 'Cy'`); n != 1 {
		t.Error("u3 not updated")
	}
	if n := countRows(t, s, `SELECT count(*) FROM users WHERE id = 'u2' AND display_name IS NULL`); n != 1 {
		t.Error("empty display name not stored as NULL")
	}
	states, err := s.SyncStates(ctx)
	if err != nil || len(states) != 1 || states[0].DeltaLink != "" || states[0].Count != 2 ||
		states[0].SyncedAt.IsZero() {
		t.Fatalf("sync states = %+v, %v", states, err)
	}
}

func TestDeltaSyncKeepsUnseenRows(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if err := s.PutUsers(ctx, Source, 1, []User{{ID: "u1", UPN: "a@x"}, {ID: "u2", UPN: "b@x"},
		{ID: "u3", UPN: "c@x"}}); err != nil {
		t.Fatal(err)
	}
	st, _ := s.BeginSync(ctx, Source, Users)
	// A delta round reports u1 changed and u2 removed; u3 is simply not mentioned.
	if err := s.PutUsers(ctx, Source, st.Generation, []User{{ID: "u1", UPN: "a2@x"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDeleted(ctx, Source, Users, st.Generation, []string{"u2", "unknown"}); err != nil {
		t.Fatal(err)
	}
	r, err := s.FinishSync(ctx, Source, Users, st.Generation, false, "https://delta/2")
	if err != nil || r.Count != 2 || r.Deleted != 0 {
		t.Fatalf("FinishSync = %+v, %v; want count 2 (u1, u3)", r, err)
	}
	// A user reported again after removal (restored) is live again.
	if err := s.PutUsers(ctx, Source, st.Generation, []User{{ID: "u2", UPN: "b@x"}}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s, `SELECT count(*) FROM users WHERE deleted = 0`); n != 3 {
		t.Errorf("live users = %d, want 3 after u2 came back", n)
	}
}

func TestPutRowsOfEveryResource(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	yes := true
	// More rows than one statement carries, so chunking is exercised.
	devices := make([]ManagedDevice, 2*rowsPerStatement+7)
	for i := range devices {
		devices[i] = ManagedDevice{ID: "m" + string(rune('a'+i%26)) + string(rune('0'+i/26)),
			OwnerType: "company"}
	}
	for _, tc := range []struct {
		name  string
		put   func() error
		table string
		want  int
	}{
		{"managed devices", func() error { return s.PutManagedDevices(ctx, Source, 1, devices) },
			"managed_devices", len(devices)},
		{"entra devices", func() error {
			return s.PutEntraDevices(ctx, Source, 1, []EntraDevice{{ID: "d1", DeviceID: "x",
				IsManaged: &yes}})
		}, "entra_devices", 1},
		{"registrations", func() error {
			return s.PutRegistrations(ctx, Target, 1, []Registration{{UserID: "u1",
				IsMfaRegistered: true, MethodsRegistered: []string{"microsoftAuthenticatorPush"}}})
		}, "registration_details", 1},
		{"domains", func() error {
			return s.PutDomains(ctx, Target, 1, []Domain{{Name: "fabrikam.com", IsVerified: true}})
		}, "domains", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.put(); err != nil {
				t.Fatal(err)
			}
			if n := countRows(t, s, `SELECT count(*) FROM `+tc.table); n != tc.want {
				t.Errorf("%s rows = %d, want %d", tc.table, n, tc.want)
			}
		})
	}
	var methods string
	s.DB().QueryRowContext(ctx, `SELECT methods_registered FROM registration_details`).Scan(&methods)
	if methods != `["microsoftAuthenticatorPush"]` {
		t.Errorf("methods_registered = %s", methods)
	}
	if n := countRows(t, s, `SELECT count(*) FROM entra_devices WHERE is_managed = 1
		AND account_enabled IS NULL`); n != 1 {
		t.Error("booleans: want is_managed 1 and a nil account_enabled stored as NULL")
	}
}
