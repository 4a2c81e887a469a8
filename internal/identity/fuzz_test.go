package identity

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cutoverhq/cutover/internal/store"
)

// FuzzImport feeds arbitrary bytes to the importer, in both modes. It must never panic; on an
// error nothing may be imported; and whatever it imports must hold up: known, not excluded,
// unique source and target accounts and final names on a domain the target will hold.
// The seed corpus is every file of testdata.
func FuzzImport(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.csv")
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, skip bool) {
		st := fixture()
		before := len(st.people)
		res, err := Import(context.Background(), st, bytes.NewReader(data), ImportOptions{
			File: "fuzz.csv", Exclusions: fixtureExclusions, SkipInvalid: skip, Now: importTime})
		if err != nil {
			var ps Problems
			if errors.As(err, &ps) && len(ps) == 0 {
				t.Fatal("an empty problem list was returned as an error")
			}
			if len(st.people) != before || len(res.Imported) != 0 {
				t.Fatalf("imported %d people despite %v", len(st.people)-before, err)
			}
			return
		}
		if !skip && len(res.Skipped) > 0 {
			t.Fatalf("problems %v were skipped without --skip-invalid", res.Skipped)
		}
		checkImported(t, st, res.Imported)
	})
}

// checkImported re-checks every imported person against the fixture's inventory.
func checkImported(t *testing.T, st *fakeStore, imported []store.Person) {
	t.Helper()
	ctx := context.Background()
	src, _ := st.InventoryDomains(ctx, store.Source)
	tgt, _ := st.InventoryDomains(ctx, store.Target)
	allowed := domainsFrom(src, tgt).Final
	for _, p := range imported {
		src, ok, _ := st.InventoryUser(ctx, store.Source, p.SourceUserID)
		if !ok || src.Deleted || fixtureExclusions.excludesUser(src) {
			t.Errorf("imported unusable source %+v", src)
		}
		tgt, ok, _ := st.InventoryUser(ctx, store.Target, p.TargetUserID)
		if !ok || tgt.Deleted || fixtureExclusions.excludesUser(tgt) {
			t.Errorf("imported unusable target %+v", tgt)
		}
		if !slices.Contains(allowed, domainOf(p.FinalUPN)) || checkSignInName(p.FinalUPN) != "" {
			t.Errorf("imported final name %q", p.FinalUPN)
		}
	}
	seen := map[string]bool{}
	for _, p := range st.people {
		for _, k := range []string{"s" + p.SourceUserID, "t" + p.TargetUserID,
			"f" + strings.ToLower(p.FinalUPN)} {
			if seen[k] {
				t.Errorf("%s is held by two people", k)
			}
			seen[k] = true
		}
	}
}
