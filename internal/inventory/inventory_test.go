package inventory

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/cutoverhq/cutover/internal/graphsim"
	"github.com/cutoverhq/cutover/internal/store"
)

func TestSyncSmallPresetMatchesSimulator(t *testing.T) {
	t.Parallel()
	e := newEnv(t, graphsim.Options{Preset: "small"})
	results := e.sync(t, e.tenants(), Options{})
	want := e.counts(t)

	for _, role := range []string{store.Source, store.Target} {
		c := want[role]
		for _, tc := range []struct {
			res   store.Resource
			table string
			want  int
		}{
			{store.Users, "users", c.Users},
			{store.ManagedDevices, "managed_devices", c.ManagedDevices},
			{store.EntraDevices, "entra_devices", c.Devices},
			{store.RegistrationDetails, "registration_details", c.Users},
			{store.Domains, "domains", c.Domains},
		} {
			t.Run(role+"/"+tc.table, func(t *testing.T) {
				r := results[role+"/"+string(tc.res)]
				if r.Err != nil || r.Mode != Full || r.Count != tc.want || r.Items != tc.want {
					t.Errorf("result = %+v; want full, %d items and rows", r, tc.want)
				}
				got := e.count(t, `SELECT count(*) FROM `+tc.table+
					` WHERE tenant_role = ? AND deleted = 0`, role)
				if got != tc.want {
					t.Errorf("%s rows = %d, simulator has %d", tc.table, got, tc.want)
				}
			})
		}
		if got := e.count(t, `SELECT count(*) FROM users WHERE tenant_role = ?
			AND account_enabled = 1`, role); got != c.EnabledUsers {
			t.Errorf("%s enabled users = %d, simulator has %d", role, got, c.EnabledUsers)
		}
	}

	// Spot-check that stored values are Graph's: every managed device's Entra device id
	// names an Entra device of the same tenant, and a verified domain is marked so.
	if n := e.count(t, `SELECT count(*) FROM managed_devices m WHERE NOT EXISTS (
		SELECT 1 FROM entra_devices d WHERE d.tenant_role = m.tenant_role
		AND d.device_id = m.azure_ad_device_id)`); n != 0 {
		t.Errorf("%d managed devices do not join to an Entra device", n)
	}
	if n := e.count(t, `SELECT count(*) FROM domains WHERE tenant_role = 'source'
		AND id = 'CONTOSO.COM' AND is_verified = 1`); n != 1 {
		t.Error("contoso.com not stored as a verified source domain")
	}
	states, err := e.st.SyncStates(t.Context())
	if err != nil || len(states) != 10 {
		t.Fatalf("sync states = %d, %v; want 10", len(states), err)
	}
	for _, st := range states {
		if hasLink := st.DeltaLink != ""; hasLink != (st.Resource == store.Users) {
			t.Errorf("%s %s delta link = %q", st.TenantRole, st.Resource, st.DeltaLink)
		}
	}
}

func TestSecondSyncUsesDelta(t *testing.T) {
	t.Parallel()
	e := newEnv(t, graphsim.Options{Preset: "small"})
	e.sync(t, e.tenants(), Options{})
	var changed, gone string
	rows, _ := e.st.DB().QueryContext(t.Context(), `SELECT id FROM users
		WHERE tenant_role = 'source' AND account_enabled = 1 ORDER BY upn LIMIT 2`)
	for rows.Next() {
		var id string
		rows.Scan(&id)
		if changed == "" {
			changed = id
		} else {
			gone = id
		}
	}
	rows.Close()

	// Change one user and delete another through Graph, then sync users again.
	e.do(t, store.Source, http.MethodPatch, "/users/"+changed, map[string]any{"accountEnabled": false})
	e.do(t, store.Source, http.MethodDelete, "/users/"+gone, nil)
	users := []store.Resource{store.Users}
	r := e.sync(t, e.tenants(), Options{Resources: users})["source/users"]

	if r.Mode != Delta || r.Items != 2 || r.Deleted != 1 || r.Count != e.counts(t)["source"].Users {
		t.Errorf("delta result = %+v; want 2 changes, 1 deletion, count %d", r,
			e.counts(t)["source"].Users)
	}
	if n := e.count(t, `SELECT count(*) FROM users WHERE id = ? AND account_enabled = 0
		AND deleted = 0`, changed); n != 1 {
		t.Error("disabled user not updated")
	}
	if n := e.count(t, `SELECT count(*) FROM users WHERE id = ? AND deleted = 1`, gone); n != 1 {
		t.Error("deleted user not marked deleted")
	}
	// Nothing changed in the target: its delta round is empty.
	if tr := e.sync(t, e.tenants(), Options{Resources: users})["target/users"]; tr.Mode != Delta ||
		tr.Items != 0 || tr.Count != e.counts(t)["target"].Users {
		t.Errorf("target delta result = %+v", tr)
	}
}

func TestExpiredDeltaLinkFallsBackToFullSync(t *testing.T) {
	t.Parallel()
	e := newEnv(t, graphsim.Options{Preset: "small"})
	users := Options{Resources: []store.Resource{store.Users}}
	e.sync(t, e.tenants(), users)
	gone := ""
	e.st.DB().QueryRowContext(t.Context(), `SELECT id FROM users WHERE tenant_role = 'source'
		ORDER BY upn DESC LIMIT 1`).Scan(&gone)
	e.do(t, store.Source, http.MethodDelete, "/users/"+gone, nil)
	// Directory delta links live seven days.
	e.sim.Advance(8 * 24 * time.Hour)

	r := e.sync(t, e.tenants(), users)["source/users"]
	if !r.Resynced || r.Mode != Full || r.Count != e.counts(t)["source"].Users || r.Deleted != 1 {
		t.Errorf("result = %+v; want a full resync that marks the deleted user", r)
	}
	if r := e.sync(t, e.tenants(), users)["source/users"]; r.Mode != Delta || r.Resynced {
		t.Errorf("sync after the resync = %+v; want delta through the new link", r)
	}
}

func TestRelistMarksVanishedDevices(t *testing.T) {
	t.Parallel()
	e := newEnv(t, graphsim.Options{Preset: "small"})
	e.sync(t, e.tenants(), Options{})
	var managedID, entraID string
	e.st.DB().QueryRowContext(t.Context(), `SELECT id FROM managed_devices
		WHERE tenant_role = 'source' LIMIT 1`).Scan(&managedID)
	e.st.DB().QueryRowContext(t.Context(), `SELECT id FROM entra_devices
		WHERE tenant_role = 'source' LIMIT 1`).Scan(&entraID)
	e.do(t, store.Source, http.MethodDelete, "/deviceManagement/managedDevices/"+managedID, nil)
	e.do(t, store.Source, http.MethodDelete, "/devices/"+entraID, nil)

	results := e.sync(t, e.tenants(), Options{})
	want := e.counts(t)["source"]
	for _, tc := range []struct {
		res       store.Resource
		table, id string
		count     int
	}{
		{store.ManagedDevices, "managed_devices", managedID, want.ManagedDevices},
		{store.EntraDevices, "entra_devices", entraID, want.Devices},
	} {
		r := results["source/"+string(tc.res)]
		if r.Deleted != 1 || r.Count != tc.count {
			t.Errorf("%s result = %+v; want 1 deleted, count %d", tc.res, r, tc.count)
		}
		if n := e.count(t, `SELECT count(*) FROM `+tc.table+` WHERE id = ? AND deleted = 1`,
			tc.id); n != 1 {
			t.Errorf("%s %s not marked deleted", tc.table, tc.id)
		}
	}
}

func TestReportPagesRotateOverApps(t *testing.T) {
	t.Parallel()
	e := newEnv(t, graphsim.Options{Preset: "merger", Users: 2500})
	var doers []*countingDoer
	tenant := Tenant{Role: store.Source, Graph: e.clients[store.Source]["cutover"]}
	for _, app := range []string{"cutover", "cutover-2", "cutover-3"} {
		d := &countingDoer{Doer: e.clients[store.Source][app]}
		doers = append(doers, d)
		tenant.Reports = append(tenant.Reports, d)
	}
	r := e.sync(t, []Tenant{tenant}, Options{Resources: []store.Resource{
		store.RegistrationDetails}})["source/registration_details"]

	users := e.counts(t)["source"].Users
	if r.Count != users || r.Pages != (users+998)/999 {
		t.Fatalf("result = %+v; want %d rows in %d pages", r, users, (users+998)/999)
	}
	for i, d := range doers {
		if d.calls.Load() != 1 {
			t.Errorf("app %d read %d pages, want 1", i+1, d.calls.Load())
		}
	}
}

func TestInterruptedSyncLeavesStoreConsistent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, graphsim.Options{Preset: "merger", Users: 3000})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// Interrupt right after the first page of source users is stored, as Ctrl-C would,
	// while the second page is being read.
	w := &hookWriter{Store: e.st, afterPutUsers: func(role string) {
		if role == store.Source {
			cancel()
		}
	}}
	results, err := New(w).Sync(ctx, e.tenants(), Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if r := byKey(results)["source/users"]; r.Err == nil {
		t.Fatalf("source users result = %+v, want an error", r)
	}

	// The store is intact, holds whole pages only, and no sync of source users completed.
	var check string
	e.st.DB().QueryRowContext(t.Context(), `PRAGMA integrity_check`).Scan(&check)
	if check != "ok" {
		t.Fatalf("integrity_check = %q", check)
	}
	if n := e.count(t, `SELECT count(*) FROM users WHERE tenant_role = 'source'`); n != 999 {
		t.Errorf("%d source users stored: want exactly the first page of 999", n)
	}
	if n := e.count(t, `SELECT count(*) FROM sync_state WHERE tenant_role = 'source'
		AND resource = 'users' AND (synced_at IS NOT NULL OR delta_link IS NOT NULL)`); n != 0 {
		t.Error("interrupted users sync recorded as complete")
	}

	// Running again completes with the simulator's exact counts.
	after := e.sync(t, e.tenants(), Options{})
	want := e.counts(t)
	if r := after["source/users"]; r.Mode != Full || r.Count != want["source"].Users {
		t.Errorf("rerun source users = %+v, want full with %d", r, want["source"].Users)
	}
	if r := after["source/managed_devices"]; r.Count != want["source"].ManagedDevices {
		t.Errorf("rerun managed devices = %+v, want %d", r, want["source"].ManagedDevices)
	}
}

func TestSyncSurvivesFaultsAndEmptyPages(t *testing.T) {
	t.Parallel()
	// One request in ten fails (throttled, server errors, dropped connections, bodies cut
	// short) and a third of the pages come back empty with a next link: the Graph client
	// retries, walk keeps following links, and the store still ends exact.
	weights := map[string]float64{"429": 1, "500": 1, "503": 1, "504": 1, "reset": 1, "cut": 1}
	e := newEnv(t, graphsim.Options{Preset: "merger", Users: 2500, EmptyPageRate: 0.3,
		Model: graphsim.Model{Faults: graphsim.FaultConfig{Rate: 0.1, Weights: weights}}})
	results := e.sync(t, e.tenants(), Options{})
	retries := e.clients[store.Source]["cutover"].Stats().Retries +
		e.clients[store.Target]["cutover"].Stats().Retries
	if retries == 0 {
		t.Fatal("no request was retried: the faults did not happen")
	}
	want := e.counts(t)
	for _, role := range []string{store.Source, store.Target} {
		for res, n := range map[store.Resource]int{store.Users: want[role].Users,
			store.ManagedDevices: want[role].ManagedDevices, store.EntraDevices: want[role].Devices,
			store.RegistrationDetails: want[role].Users, store.Domains: want[role].Domains} {
			if r := results[role+"/"+string(res)]; r.Count != n || r.Items != n {
				t.Errorf("%s %s = %+v; want %d rows", role, res, r, n)
			}
		}
	}
}
