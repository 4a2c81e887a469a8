package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cutoverhq/cutover/internal/identity"
	"github.com/cutoverhq/cutover/internal/store"
)

// TestStatus looks one imported person up by each of their names and ids, and checks the
// answer against the store the sync filled.
func TestStatus(t *testing.T) {
	sp, pairs := importedProject(t)
	source, staging := pairs[0][0], pairs[0][1]
	sp.mustRun(t, "", "waves", "assign", "wave-1", source)

	out, _ := sp.mustRun(t, "", "status", staging, "--output", "json")
	var st identity.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if st.Person.SourceUPN != source || st.Person.StagingUPN != staging || st.Person.FinalUPN != source ||
		st.Wave == nil || st.Wave.Name != "wave-1" || st.Source == nil || st.Target == nil ||
		st.Source.UPN != source || st.Target.UPN != staging {
		t.Fatalf("status: %+v", st)
	}
	devices, mfa := storeFacts(t, sp, st.Source.ID)
	if len(st.Source.Devices) != devices || len(st.Source.Devices) == 0 {
		t.Errorf("%d source devices, the store has %d", len(st.Source.Devices), devices)
	}
	if (st.Source.Authenticator != nil && st.Source.Authenticator.Authenticator) != mfa {
		t.Errorf("authenticator = %+v, report says %v", st.Source.Authenticator, mfa)
	}
	if st.Source.Enabled == nil || !*st.Source.Enabled || st.Source.SessionsValidFrom == nil {
		t.Errorf("source account: %+v", st.Source)
	}

	// Every name and id finds the same person; the table names the essentials.
	for _, key := range []string{source, strings.ToUpper(staging), st.Source.ID, st.Target.ID, "1"} {
		out, _ := sp.mustRun(t, "", "status", key)
		for _, want := range []string{"(person 1)", "Use", "wave-1: 2026-06-06 18:00 BST → 2026-06-08 06:00 BST",
			source + " (enabled)", "Target account ", staging + " (enabled)", "Devices (",
			"Authenticator"} {
			if !strings.Contains(out, want) {
				t.Errorf("status %s lacks %q:\n%s", key, want, out)
			}
		}
	}

	code, _, errOut := sp.run(t, "", "status", "breakglass1@contoso.onmicrosoft.com")
	if code != ExitError || !strings.Contains(errOut, "is a source account (Admin breakglass1) but not a person") {
		t.Errorf("status of a non-person: %d %s", code, errOut)
	}
	code, _, errOut = sp.run(t, "", "status", "nobody@nowhere.example")
	if code != ExitError || !strings.Contains(errOut, "no person is known as nobody@nowhere.example") {
		t.Errorf("status of nobody: %d %s", code, errOut)
	}
}

// storeFacts reads the user's device count and Authenticator registration from the store.
func storeFacts(t *testing.T, sp *simProject, userID string) (int, bool) {
	t.Helper()
	p, _ := loadProject(sp.Dir)
	st, err := store.Open(t.Context(), p.StorePath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n int
	var methods string
	db := st.DB()
	if err := db.QueryRow(`SELECT COUNT(*) FROM managed_devices WHERE tenant_role = 'source'
		AND user_id = ?`, userID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	_ = db.QueryRow(`SELECT methods_registered FROM registration_details
		WHERE tenant_role = 'source' AND user_id = ?`, userID).Scan(&methods)
	return n, strings.Contains(methods, "microsoftAuthenticator")
}
