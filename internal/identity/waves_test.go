package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cutoverhq/cutover/internal/store"
)

func TestParseFilter(t *testing.T) {
	cases := []struct {
		expr string
		want string
		err  string
	}{
		{expr: "domain=contoso.com", want: "[{domain contoso.com false}]"},
		{expr: " UPN = m* , wave!=wave-1 ", want: "[{upn m* false} {wave wave-1 true}]"},
		{expr: "displayname=Mary Major", want: "[{displayName Mary Major false}]"},
		{expr: "Department=Sales", want: "[{department Sales false}]"},
		{expr: "shoeSize=12", err: "unknown field shoeSize (fields: upn, mail,"},
		{expr: "upn", err: "want field=value"},
		{expr: " , ", err: "the filter is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := ParseFilter(tc.expr)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != tc.want {
				t.Errorf("got %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestCheckWave(t *testing.T) {
	start := time.Date(2026, 6, 6, 17, 0, 0, 0, time.UTC)
	ok := store.Wave{Name: "wave-1", WindowStart: start, WindowEnd: start.Add(time.Hour), GraceDays: 14}
	cases := []struct {
		name string
		edit func(w *store.Wave)
		err  string
	}{
		{"valid", func(*store.Wave) {}, ""},
		{"bad name", func(w *store.Wave) { w.Name = "wave 1" }, "use 1 to 63 letters"},
		{"no end", func(w *store.Wave) { w.WindowEnd = time.Time{} }, "needs a start and an end"},
		{"backwards", func(w *store.Wave) { w.WindowEnd = start }, "ends (2026-06-06T17:00:00Z) before it starts"},
		{"grace too long", func(w *store.Wave) { w.GraceDays = 91 }, "grace must be 0 to 90 days, not 91"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := ok
			tc.edit(&w)
			err := CheckWave(w)
			if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestSetWave(t *testing.T) {
	st := openStore(t, fixture())
	ctx := context.Background()
	grace := 3
	if _, err := SetWave(ctx, st, "WAVE-1", WaveChange{GraceDays: &grace}); !errors.Is(err, ErrConfigWave) {
		t.Fatalf("set on a declared wave: %v", err)
	}
	end := time.Date(2026, 6, 14, 6, 0, 0, 0, time.UTC)
	w, err := SetWave(ctx, st, "wave-2", WaveChange{End: &end, GraceDays: &grace})
	if err != nil {
		t.Fatal(err)
	}
	got, _, _ := st.WaveNamed(ctx, "wave-2")
	if !got.WindowEnd.Equal(end) || got.GraceDays != 3 || !got.WindowStart.Equal(w.WindowStart) {
		t.Errorf("stored %+v", got)
	}
	early := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if _, err := SetWave(ctx, st, "wave-2", WaveChange{End: &early}); err == nil {
		t.Error("an end before the start was accepted")
	}
	if _, err := SetWave(ctx, st, "wave-9", WaveChange{End: &end}); err == nil {
		t.Error("an unknown wave was set")
	}
}

func TestMirrorWaves(t *testing.T) {
	st := openStore(t, fixture())
	ctx := context.Background()
	start := time.Date(2026, 7, 1, 17, 0, 0, 0, time.UTC)
	// wave-2 becomes declared (the file wins over the store's copy); wave-1 is no longer
	// declared and keeps its person as a store wave.
	declared := []store.Wave{{Name: "Wave-2", WindowStart: start, WindowEnd: start.Add(time.Hour), GraceDays: 5}}
	if err := MirrorWaves(ctx, st, declared, importTime); err != nil {
		t.Fatal(err)
	}
	ws, _ := st.Waves(ctx)
	got := fmt.Sprint(ws)
	want := "[{wave-1 2026-06-06 17:00:00 +0000 UTC 2026-06-08 05:00:00 +0000 UTC 14 false 1} " +
		"{Wave-2 2026-07-01 17:00:00 +0000 UTC 2026-07-01 18:00:00 +0000 UTC 5 true 0}]"
	if got != want {
		t.Errorf("waves:\n%s\nwant\n%s", got, want)
	}
	bad := []store.Wave{{Name: "w", WindowStart: start, WindowEnd: start}}
	if err := MirrorWaves(ctx, st, bad, importTime); err == nil {
		t.Error("an invalid declared wave was mirrored")
	}
}

func TestAssign(t *testing.T) {
	ctx := context.Background()
	f := fixture()
	for i, src := range []string{"mary.major", "john.smith", "patricia.johnson"} {
		f.people = append(f.people, store.Person{ID: int64(i + 2), SourceUserID: id(store.Source, i+1),
			TargetUserID: id(store.Target, i+1), StagingUPN: src + "@fabrikam.onmicrosoft.com",
			FinalUPN: src + "@contoso.com", ImportedAt: importTime})
	}
	cases := []struct {
		name  string
		wave  string
		opts  AssignOptions
		want  AssignResult
		err   string
		waves map[string]string // source user → wave afterwards
	}{
		{name: "by filter", wave: "wave-2",
			opts:  AssignOptions{Filter: []store.Match{{Field: "upn", Value: "*JOHN*"}}, Move: true},
			want:  AssignResult{Wave: "wave-2", Assigned: 2},
			waves: map[string]string{"john.smith": "wave-2", "patricia.johnson": "wave-2", "mary.major": ""}},
		{name: "by name and id", wave: "WAVE-2",
			opts: AssignOptions{People: []string{"MARY.MAJOR@contoso.com", "3"}},
			want: AssignResult{Wave: "wave-2", Assigned: 2}},
		{name: "someone in another wave", wave: "wave-2",
			opts: AssignOptions{People: []string{"mary.major@contoso.com", "linda.brown@contoso.com"}},
			err:  "linda.brown@contoso.com is in wave wave-1 (use --move to move them)"},
		{name: "move", wave: "wave-2",
			opts: AssignOptions{People: []string{"linda.brown@contoso.com"}, Move: true},
			want: AssignResult{Wave: "wave-2", Assigned: 1, Moved: 1}},
		{name: "already there", wave: "wave-1",
			opts: AssignOptions{People: []string{"linda.brown@contoso.com"}},
			want: AssignResult{Wave: "wave-1", Already: 1}},
		{name: "excluded", wave: "wave-2",
			opts: AssignOptions{People: []string{"mary.major@contoso.com"}, Exclusions: NewExclusions([]string{"mary.major@contoso.com"})},
			err:  "mary.major@contoso.com is excluded"},
		{name: "from csv", wave: "wave-2",
			opts: AssignOptions{CSVName: "w.csv", CSV: strings.NewReader("source\nmary.major@contoso.com\nnobody@contoso.com\n")},
			err:  "w.csv:3: source: no person is known as nobody@contoso.com"},
		{name: "unknown wave", wave: "wave-7", opts: AssignOptions{People: []string{"1"}}, err: "no wave named wave-7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t, f)
			res, err := Assign(ctx, st, tc.wave, tc.opts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				if n, _ := st.CountPeople(ctx, store.PeopleFilter{Wave: "wave-2"}); n != 0 {
					t.Errorf("%d people assigned despite the error", n)
				}
				return
			}
			if err != nil || res != tc.want {
				t.Fatalf("got %+v, %v; want %+v", res, err, tc.want)
			}
			for src, wave := range tc.waves {
				p, _ := lookupOne(ctx, st, src+"@contoso.com")
				if p.Wave != wave {
					t.Errorf("%s is in %q, want %q", src, p.Wave, wave)
				}
			}
		})
	}
}

func TestRefreshExclusions(t *testing.T) {
	st := openStore(t, fixture())
	ctx := context.Background()
	for _, tc := range []struct {
		entries []string
		want    int
	}{
		{[]string{"LINDA.BROWN@contoso.com"}, 1},
		{[]string{id(store.Target, 5)}, 1},
		{[]string{"linda.brown@fabrikam.onmicrosoft.com", "breakglass1@contoso.onmicrosoft.com"}, 1},
		{nil, 0},
	} {
		n, err := RefreshExclusions(ctx, st, NewExclusions(tc.entries))
		excluded := true
		count, _ := st.CountPeople(ctx, store.PeopleFilter{Excluded: &excluded})
		if err != nil || n != tc.want || count != tc.want {
			t.Errorf("%v: %d (%d stored), %v; want %d", tc.entries, n, count, err, tc.want)
		}
	}
}
