package graphsim

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// daySnapshot is what a migration engineer tracks each day after the revoke.
type daySnapshot struct {
	registered  int // target staging accounts that gained Authenticator since the revoke
	reenrolled  int // source serial numbers now enrolled in the target
	signedIn    int // target accounts signed in since the revoke
	stragglers  int // source accounts with a successful sign-in since the revoke
	lateAttempt int // source accounts with a sign-in attempt since blocking
}

// runWave seeds a merger with people behaviour, revokes every source person in the given
// order over HTTPS, then advances simulated time a day at a time for two weeks, blocking
// the source accounts after day 7.
func runWave(t *testing.T, reverse bool) []daySnapshot {
	t.Helper()
	fixed := time.Date(2026, 6, 6, 18, 0, 0, 0, time.UTC)
	model := DefaultPeopleModel()
	s := startSim(t, Options{Preset: "merger", Users: 1000, Seed: 5, People: &model,
		Now: func() time.Time { return fixed }})
	src, tgt := tenant(t, s, "source"), tenant(t, s, "target")
	tok := token(t, s, "source", "cutover")

	var wave []*User
	for _, id := range src.userOrder {
		if u := src.users[id]; !u.IsAdmin {
			wave = append(wave, u)
		}
	}
	if reverse {
		slices.Reverse(wave)
	}
	hadAuth := map[string]bool{}
	for _, u := range tgt.users {
		hadAuth[u.ID] = len(u.Authenticators) > 0
	}
	sourceSerials := map[string]bool{}
	for _, d := range src.managed {
		sourceSerials[d.SerialNumber] = true
	}
	revokeAt := s.clock.Now()

	// Eight workers, as a paced client would use.
	work := make(chan *User)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				if r := do(t, s, tok, http.MethodPost, "/users/"+u.ID+"/revokeSignInSessions", map[string]any{}); r.Status != http.StatusOK {
					t.Errorf("revoke %s: %d", u.UPN, r.Status)
				}
			}
		}()
	}
	for _, u := range wave {
		work <- u
	}
	close(work)
	wg.Wait()

	var days []daySnapshot
	var blockedAt time.Time
	for day := 1; day <= 14; day++ {
		s.Advance(24 * time.Hour)
		s.mu.Lock()
		if day == 7 {
			blockedAt = s.clock.Now()
			for _, u := range wave {
				u.AccountEnabled = false
			}
		}
		var snap daySnapshot
		for _, u := range tgt.users {
			if !hadAuth[u.ID] && len(u.Authenticators) > 0 {
				snap.registered++
			}
			if u.SignIns.LastSuccessfulSignIn.After(revokeAt) {
				snap.signedIn++
			}
		}
		for _, d := range tgt.managed {
			if sourceSerials[d.SerialNumber] {
				snap.reenrolled++
			}
		}
		for _, u := range wave {
			if u.SignIns.LastSuccessfulSignIn.After(revokeAt) {
				snap.stragglers++
			}
			if !blockedAt.IsZero() && u.SignIns.LastSignIn.After(blockedAt) {
				snap.lateAttempt++
			}
		}
		s.mu.Unlock()
		days = append(days, snap)
	}

	// Blocked accounts keep drawing attempts but never another success.
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range wave {
		if u.SignIns.LastSuccessfulSignIn.After(blockedAt) {
			t.Errorf("%s signed in successfully after being blocked", u.UPN)
		}
	}
	return days
}

func TestPeopleAfterRevoke(t *testing.T) {
	days := runWave(t, false)
	first, last := days[0], days[len(days)-1]

	for i := 1; i < len(days); i++ {
		if days[i].registered < days[i-1].registered || days[i].reenrolled < days[i-1].reenrolled {
			t.Errorf("day %d went backwards: %+v after %+v", i+1, days[i], days[i-1])
		}
	}
	if first.registered == 0 || first.signedIn == 0 || first.reenrolled == 0 || first.stragglers == 0 {
		t.Errorf("day 1 shows no activity: %+v", first)
	}
	// About 900 people have a staging account, 60% of those lacked Authenticator, 90% of
	// them register: around 490. About 1,350 of their 1,500 devices, 80% re-enrolled.
	if last.registered < 400 || last.registered > 580 {
		t.Errorf("registrations after two weeks = %d, want about 490", last.registered)
	}
	if last.reenrolled < 950 || last.reenrolled > 1200 {
		t.Errorf("re-enrolments after two weeks = %d, want about 1,080", last.reenrolled)
	}
	if last.signedIn < 780 || last.signedIn > 900 {
		t.Errorf("target sign-ins = %d, want about 855", last.signedIn)
	}
	if last.stragglers < 60 || last.stragglers > 140 {
		t.Errorf("source stragglers = %d, want about 100", last.stragglers)
	}
	if days[6].lateAttempt != 0 || last.lateAttempt == 0 {
		t.Errorf("attempts after blocking: day 7 %d, day 14 %d; want 0 then some", days[6].lateAttempt, last.lateAttempt)
	}
	t.Logf("daily: %+v", days)
}

func TestPeopleDeterministicWhateverTheOrder(t *testing.T) {
	a := runWave(t, false)
	b := runWave(t, true)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different revoke order, different behaviour:\n%+v\n%+v", a, b)
	}
}
