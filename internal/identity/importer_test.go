package identity

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutoverhq/cutover/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/bad")

var importTime = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

func importFile(t *testing.T, st ImportStore, path string, opts ImportOptions) (ImportResult, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if opts.File == "" {
		opts.File = filepath.Base(path)
	}
	if opts.Exclusions == nil {
		opts.Exclusions = fixtureExclusions
	}
	opts.Now = importTime
	return Import(context.Background(), st, bytes.NewReader(b), opts)
}

// TestBadCorpus imports every file of testdata/bad and compares the problems with the
// file's golden messages. Nothing may be imported from any of them.
func TestBadCorpus(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.csv")
	if len(files) < 20 {
		t.Fatalf("only %d bad files", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			st := fixture()
			_, err := importFile(t, st, path, ImportOptions{})
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error = %v, want problems", err)
			}
			if st.adds != 0 || len(st.people) != 1 {
				t.Errorf("imported something: %d adds, %d people", st.adds, len(st.people))
			}
			compareGolden(t, strings.TrimSuffix(path, ".csv")+".golden", ps.Error()+"\n")
		})
	}
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/identity -run %s -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("problems differ from %s:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestGoodCorpus(t *testing.T) {
	cases := []struct {
		file      string
		imported  int
		unchanged int
		check     func(t *testing.T, people []store.Person)
	}{
		{"basic.csv", 2, 0, func(t *testing.T, ps []store.Person) {
			want := store.Person{ID: 3, SourceUserID: id(store.Source, 2), TargetUserID: id(store.Target, 2),
				StagingUPN: "john.smith@fabrikam.onmicrosoft.com", FinalUPN: "john.smith@fabrikam.com",
				Wave: "wave-2", ImportedAt: importTime}
			if ps[2] != want {
				t.Errorf("john = %+v\nwant %+v", ps[2], want)
			}
		}},
		{"excel.csv", 2, 0, func(t *testing.T, ps []store.Person) {
			// Any column order and case, BOM, CRLF, quotes; ids or names; wave by any case.
			if ps[1].Wave != "wave-1" || ps[1].FinalUPN != "mary.major@contoso.com" ||
				ps[1].SourceUserID != id(store.Source, 1) {
				t.Errorf("mary = %+v", ps[1])
			}
			if ps[2].FinalUPN != "john.smith@contoso.com" || ps[2].Wave != "" ||
				ps[2].StagingUPN != "john.smith@fabrikam.onmicrosoft.com" {
				t.Errorf("john = %+v", ps[2])
			}
		}},
		{"multiline-note.csv", 2, 0, func(t *testing.T, ps []store.Person) {
			if ps[2].SourceUserID != id(store.Source, 4) {
				t.Errorf("spaces around a name are not trimmed: %+v", ps[2])
			}
		}},
		{"reimport.csv", 1, 1, nil},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			st := fixture()
			res, err := importFile(t, st, filepath.Join("testdata/good", tc.file), ImportOptions{})
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			if len(res.Imported) != tc.imported || res.Unchanged != tc.unchanged {
				t.Fatalf("imported %d, unchanged %d; want %d, %d", len(res.Imported), res.Unchanged,
					tc.imported, tc.unchanged)
			}
			if len(st.people) != 1+tc.imported {
				t.Fatalf("store holds %d people", len(st.people))
			}
			if tc.check != nil {
				tc.check(t, st.people)
			}
		})
	}
}

func TestSkipInvalidImportsTheRest(t *testing.T) {
	st := fixture()
	res, err := importFile(t, st, "testdata/bad/everything.csv", ImportOptions{SkipInvalid: true})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if res.Rows != 6 || len(res.Imported) != 1 || res.SkippedRows != 5 {
		t.Fatalf("rows %d, imported %d, skipped %d; want 6, 1, 5", res.Rows, len(res.Imported), res.SkippedRows)
	}
	if got := st.people[1]; got.SourceUserID != id(store.Source, 3) || got.Wave != "wave-2" {
		t.Errorf("imported %+v, want patricia in wave-2", got)
	}
	for _, p := range res.Skipped {
		if p.Line == 7 {
			t.Errorf("the valid line 7 is reported: %v", p)
		}
	}
}

func TestSkipInvalidStillStopsOnFileProblems(t *testing.T) {
	st := fixture()
	_, err := importFile(t, st, "testdata/bad/unknown-column.csv", ImportOptions{SkipInvalid: true})
	if err == nil || st.adds != 0 {
		t.Fatalf("err = %v, adds = %d", err, st.adds)
	}
}

func TestProvisioning(t *testing.T) {
	cases := []struct {
		name    string
		csv     string
		want    store.Person
		problem string
	}{
		{name: "missing target account is created with the given name",
			csv:  "source,target\nmary.major@contoso.com,m.major@fabrikam.onmicrosoft.com\n",
			want: store.Person{SourceUserID: id(store.Source, 1), StagingUPN: "m.major@fabrikam.onmicrosoft.com", FinalUPN: "mary.major@contoso.com"}},
		{name: "empty target is allowed",
			csv:  "source\nmary.major@contoso.com\n",
			want: store.Person{SourceUserID: id(store.Source, 1), FinalUPN: "mary.major@contoso.com"}},
		{name: "existing target account is still used",
			csv:  "source,target\nmary.major@contoso.com,mary.major@fabrikam.onmicrosoft.com\n",
			want: store.Person{SourceUserID: id(store.Source, 1), TargetUserID: id(store.Target, 1), StagingUPN: "mary.major@fabrikam.onmicrosoft.com", FinalUPN: "mary.major@contoso.com"}},
		{name: "staging name on a domain the target does not hold",
			csv:     "source,target\nmary.major@contoso.com,mary.major@contoso.com\n",
			problem: "p.csv:2: target: domain contoso.com is not a verified domain of the target (allowed: fabrikam.com, fabrikam.onmicrosoft.com)"},
		{name: "staging name that is not a sign-in name",
			csv:     "source,target\nmary.major@contoso.com,70000000-0000-4000-8000-000000000042\n",
			problem: "p.csv:2: target: no account 70000000-0000-4000-8000-000000000042 in the target tenant, and it is not a sign-in name to create: it must have exactly one @"},
		{name: "two people to be created with the same name",
			csv:     "source,target\nmary.major@contoso.com,new@fabrikam.com\njohn.smith@contoso.com,NEW@fabrikam.com\n",
			problem: "p.csv:2: target: new@fabrikam.com is also on line 3\np.csv:3: target: NEW@fabrikam.com is also on line 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := fixture()
			res, err := Import(context.Background(), st, strings.NewReader(tc.csv), ImportOptions{
				File: "p.csv", Provision: true, Exclusions: fixtureExclusions, Now: importTime})
			if tc.problem != "" {
				if err == nil || err.Error() != tc.problem {
					t.Fatalf("error = %v\nwant %s", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.want.ID, tc.want.ImportedAt = 2, importTime
			if len(res.Imported) != 1 || res.Imported[0] != tc.want {
				t.Errorf("imported %+v\nwant %+v", res.Imported, tc.want)
			}
		})
	}
}

func TestEmptyInventory(t *testing.T) {
	st := &fakeStore{}
	_, err := Import(context.Background(), st, strings.NewReader("source\nmary@contoso.com\n"),
		ImportOptions{File: "p.csv"})
	if err == nil || !strings.Contains(err.Error(), "run cutover sync first") {
		t.Fatalf("error = %v", err)
	}
}

func TestImportStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st := fixture()
	_, err := Import(ctx, st, strings.NewReader("source,target\nmary.major@contoso.com,mary.major@fabrikam.onmicrosoft.com\n"),
		ImportOptions{File: "p.csv"})
	if !errors.Is(err, context.Canceled) || st.adds != 0 {
		t.Fatalf("err = %v, adds = %d", err, st.adds)
	}
}
