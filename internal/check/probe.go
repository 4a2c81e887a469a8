package check

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/cutoverhq/cutover/internal/graph"
)

// probe is what one harmless request told about a licence and the permission it needed.
type probe struct {
	licence      Status // "" when the probe did not run
	detail       string
	permission   Status
	signInFailed bool
}

// better keeps a definite answer about the licence over an unknown one.
func (p probe) better(q probe) probe {
	definite := func(s Status) bool { return s == StatusGranted || s == StatusMissing }
	if definite(p.licence) || (p.licence != "" && !definite(q.licence)) {
		return p
	}
	return q
}

// Intune answers every call with 400 "Request not applicable to target tenant." in a tenant
// without an active Intune licence (GRAPH.md 4).
const intuneProbePath = "/deviceManagement/managedDevices?$top=1&$select=id"

// The registration report needs Entra ID P1 or P2 and answers 403 with this code without it
// (GRAPH.md 6.4).
const (
	premiumProbePath = "/reports/authenticationMethods/userRegistrationDetails?$top=1"
	nonPremiumCode   = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
)

func (c Checker) probeIntune(ctx context.Context, s Session) probe {
	_, err := s.Do(ctx, getRequest(intuneProbePath))
	if err == nil {
		return probe{licence: StatusGranted, permission: StatusGranted}
	}
	if p, failed := signInFailure(err); failed {
		return p
	}
	var ge *graph.Error
	errors.As(err, &ge)
	switch {
	case ge != nil && ge.Status == http.StatusBadRequest &&
		strings.Contains(strings.ToLower(ge.Message), "not applicable to target tenant"):
		return probe{licence: StatusMissing, permission: StatusUnknown,
			detail: "Intune answers \"Request not applicable to target tenant\""}
	case ge != nil && ge.Status == http.StatusForbidden:
		return probe{licence: StatusUnknown, permission: StatusMissing,
			detail: "testing it needs DeviceManagementManagedDevices.Read.All"}
	}
	return probe{licence: StatusUnknown, permission: StatusUnknown, detail: shortError(err)}
}

// probePremium asks for one row of the registration report. The refusal code has been seen
// intermittently on licensed tenants too (GRAPH.md 10.3), so a refusal is asked twice.
func (c Checker) probePremium(ctx context.Context, s Session) probe {
	var err error
	for range 2 {
		if _, err = s.Do(ctx, getRequest(premiumProbePath)); err == nil {
			return probe{licence: StatusGranted, permission: StatusGranted}
		}
		var ge *graph.Error
		if !errors.As(err, &ge) || ge.Code != nonPremiumCode || ctx.Err() != nil {
			break
		}
	}
	if p, failed := signInFailure(err); failed {
		return p
	}
	var ge *graph.Error
	errors.As(err, &ge)
	switch {
	case ge != nil && ge.Code == nonPremiumCode:
		return probe{licence: StatusMissing, permission: StatusUnknown,
			detail: "the registration report answers 403 " + nonPremiumCode}
	case ge != nil && ge.Status == http.StatusForbidden:
		return probe{licence: StatusUnknown, permission: StatusMissing,
			detail: "testing it needs AuditLog.Read.All"}
	}
	return probe{licence: StatusUnknown, permission: StatusUnknown, detail: shortError(err)}
}

// signInFailure recognises errors that mean the app never got a usable token: the token
// service refused it, Graph refused the token, or neither could be reached.
func signInFailure(err error) (probe, bool) {
	var ge *graph.Error
	if !errors.As(err, &ge) {
		return probe{signInFailed: true, detail: shortError(err)}, true
	}
	if ge.Code == "tokenRequestFailed" || ge.Status == http.StatusUnauthorized || ge.Status == 0 {
		return probe{signInFailed: true, detail: shortError(err)}, true
	}
	return probe{}, false
}

// descriptionRE finds the token service's explanation inside azidentity's many-line error.
var descriptionRE = regexp.MustCompile(`"error_description":\s*"(AADSTS[^"]*?)(\s*Trace ID:[^"]*)?"`)

// shortError keeps what a person needs from an error: the AADSTS description of a refused
// token (without trace ids), or else the first line.
func shortError(err error) string {
	msg := err.Error()
	if m := descriptionRE.FindStringSubmatch(msg); m != nil {
		msg = "the token service says " + strings.TrimSpace(m[1])
	} else if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// licences adds one row per licence the tenant's enabled steps depend on.
func (c Checker) licences(role string, needs []Need, intune, premium probe, r *Report) {
	for _, lic := range []struct {
		name string
		p    probe
		why  string
	}{
		{LicenceIntune, intune, "Intune endpoints answer 400 in a tenant without an Intune licence"},
		{LicencePremium, premium, "the registration report and sign-in activity need Entra ID P1 or P2"},
	} {
		var steps []string
		for _, n := range needs {
			if n.Tenant == role && slices.Contains(n.Licences, lic.name) {
				steps = append(steps, n.Step)
			}
		}
		if len(steps) == 0 {
			continue
		}
		st, detail := lic.p.licence, lic.p.detail
		if st == "" {
			st, detail = StatusUnknown, "no app registration signed in"
		}
		r.add(Row{Step: strings.Join(steps, ", "), Tenant: role, Kind: KindLicence, Needs: lic.name,
			Status: st, Detail: detail, Why: lic.why})
	}
}

// decodeRoles reads the roles claim of an app-only access token: the application
// permissions granted to the app. Microsoft does not promise that its tokens are decodable
// JWTs (GRAPH.md 2), so any surprise returns nil and the caller falls back to test requests.
// A decodable token without roles returns an empty, non-nil list: nothing is granted.
func decodeRoles(token string) []string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var claims struct {
		Roles *[]string `json:"roles"`
		Tid   string    `json:"tid"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Tid == "" {
		return nil
	}
	if claims.Roles == nil {
		return []string{}
	}
	return *claims.Roles
}
