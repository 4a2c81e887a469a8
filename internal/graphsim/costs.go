package graphsim

import (
	"net/http"
	"strconv"
	"strings"
)

// Families of Graph requests, each metered by its own limits (GRAPH.md 12).
const (
	familyIdentity   = "identity"
	familyReports    = "reports"
	familyIntune     = "intune"
	familyEnrollment = "intune-enrollment"
	familyOutlook    = "outlook"
	familyBatch      = "batch"
)

// cost is what one request is charged: resource units and writes on the Entra buckets,
// requests (and writes) on the request-counting buckets.
type cost struct {
	family  string
	ru      int
	writes  int
	mailbox string // the mailbox's user key, for Outlook
}

// charge is an amount taken from one bucket.
type charge struct {
	def    *bucketDef
	amount float64
}

// routeSegs returns the request's route pattern segments, or the path's when no route
// matched. Patterns make the cost table independent of ids ("users/{id}/sendMail").
func routeSegs(c *call) []string {
	if c.route != nil {
		return c.route.segs
	}
	rel := strings.TrimPrefix(c.r.URL.Path, "/v1.0")
	return strings.Split(strings.Trim(rel, "/"), "/")
}

// isWrite reports whether a method writes (POST actions that only read are handled by the
// cost table).
func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// classify names the family of a request and its cost. Routes under deviceManagement (and
// any managedDevices path) are Intune, Autopilot identities Intune enrollment; a user's mail
// is Outlook; reports and audit logs are the identity reports limit; everything else is
// identity and access, charged by the cost table of GRAPH.md 12.2.
func classify(c *call) cost {
	segs := routeSegs(c)
	low := make([]string, len(segs))
	for i, s := range segs {
		low[i] = strings.ToLower(s)
		if strings.HasPrefix(s, "{") {
			low[i] = "{}"
		}
	}
	write := 0
	if isWrite(c.r.Method) {
		write = 1
	}
	switch {
	case len(low) == 1 && low[0] == "$batch":
		return cost{family: familyBatch}
	case low[0] == "devicemanagement" && len(low) > 1 && low[1] == "windowsautopilotdeviceidentities":
		return cost{family: familyEnrollment, writes: write}
	case low[0] == "devicemanagement" || containsSeg(low, "manageddevices"):
		return cost{family: familyIntune, writes: write}
	case isMailPath(low):
		return cost{family: familyOutlook, writes: write, mailbox: c.params["id"]}
	case low[0] == "reports" || low[0] == "auditlogs":
		return cost{family: familyReports}
	}
	ru, w := identityCost(c.r.Method, low)
	return cost{family: familyIdentity, ru: applyModifiers(ru, c, w), writes: w}
}

// isMailPath matches users/{id}/sendMail and the user's messages and folders.
func isMailPath(low []string) bool {
	if len(low) < 3 || low[0] != "users" {
		return false
	}
	switch low[2] {
	case "sendmail", "messages", "mailfolders":
		return true
	}
	return false
}

func containsSeg(segs []string, s string) bool {
	for _, x := range segs {
		if x == s {
			return true
		}
	}
	return false
}

// identityCost is the base RU and write cost of GRAPH.md 12.2 before query modifiers.
func identityCost(method string, low []string) (ru, writes int) {
	path := strings.Join(low, "/")
	if method == http.MethodGet {
		switch path {
		case "users", "applications", "applications/{}/extensionproperties",
			"oauth2permissiongrants", "serviceprincipals/{}/approleassignments":
			return 2, 0
		case "contracts", "subscribedskus":
			return 3, 0
		case "domains/{}/domainnamereferences":
			return 4, 0
		}
		if len(low) >= 3 && low[0] == "users" {
			switch low[2] {
			case "licensedetails", "memberof", "ownedobjects", "transitivememberof":
				return 2, 0
			}
		}
		if len(low) >= 3 && low[0] == "groups" {
			switch low[2] {
			case "members":
				return 3, 0
			case "transitivemembers":
				return 5, 0
			}
		}
		return 1, 0
	}
	// Read-only actions sent as POST.
	if method == http.MethodPost {
		last := low[len(low)-1]
		switch last {
		case "getbyids", "getobjectsbyid":
			return 5, 0
		case "ismemberof", "checkmembergroups", "checkmemberobjects":
			return 4, 0
		case "getmembergroups", "getmemberobjects":
			return 2, 0
		}
	}
	if isWrite(method) {
		return 1, 1
	}
	return 1, 0
}

// applyModifiers applies the query modifiers of GRAPH.md 12.2 to a read: $select −1,
// $expand +1, $top below 20 −1, never below 1. getByIds with $select costs 2.
func applyModifiers(ru int, c *call, writes int) int {
	if writes > 0 {
		return ru
	}
	if ru == 5 && c.r.Method == http.MethodPost {
		if c.query.Has("$select") {
			return 2
		}
		return ru
	}
	if c.query.Has("$select") {
		ru--
	}
	if c.query.Has("$expand") {
		ru++
	}
	if top, err := strconv.Atoi(c.query.Get("$top")); err == nil && top < 20 {
		ru--
	}
	return max(ru, 1)
}

// selectsSignInActivity reports whether a request reads signInActivity, which has its own
// limit of 10 requests a minute.
func selectsSignInActivity(c *call) bool {
	return containsFold(c.query.Get("$select"), "signInActivity") ||
		containsFold(c.query.Get("$filter"), "signInActivity")
}

// charges lists the buckets a request is charged against, most specific first: the order
// in which they are checked, so the first that lacks tokens throttles the request.
func (sm *simModel) charges(c *call, k cost) []charge {
	var names []string
	var amounts []float64
	add := func(name string, amount float64) {
		if amount > 0 {
			names, amounts = append(names, name), append(amounts, amount)
		}
	}
	w := float64(k.writes)
	switch k.family {
	case familyIdentity:
		ru := float64(k.ru)
		add(bEntraRU, ru)
		add(bEntraWrites, w)
		if len(routeSegs(c)) > 0 && isDevicePath(routeSegs(c)[0]) {
			add(bDeviceWrites, w)
		}
		if selectsSignInActivity(c) {
			add(bSignIn, 1)
		}
		add(bEntraTenantWrites, w)
		add(bEntraAppRU, ru)
		add(bEntraAppWrites, w)
		if selectsSignInActivity(c) {
			add(bSignInApp, 1)
		}
	case familyReports:
		add(bReports, 1)
		add(bReportsApp, 1)
	case familyIntune:
		add(bIntuneWrites, w)
		add(bIntuneAny, 1)
		add(bIntuneTenantW, w)
		add(bIntuneTenantAny, 1)
	case familyEnrollment:
		add(bEnrollWrites, w)
		add(bEnrollAny, 1)
		add(bEnrollTenantW, w)
		add(bEnrollTenantAny, 1)
	case familyOutlook:
		add(bOutlook, 1)
	case familyBatch:
		if sm.st.BatchEnvelopeGlobal {
			add(bGlobal, 1)
		}
		return sm.resolve(names, amounts)
	}
	add(bGlobal, 1)
	return sm.resolve(names, amounts)
}

// resolve maps bucket names to the configured definitions, dropping disabled ones.
func (sm *simModel) resolve(names []string, amounts []float64) []charge {
	out := make([]charge, 0, len(names))
	for i, n := range names {
		if d := sm.defs[n]; d != nil {
			out = append(out, charge{def: d, amount: amounts[i]})
		}
	}
	return out
}

// isDevicePath matches Entra device objects: devices and devices(deviceId='…').
func isDevicePath(seg string) bool {
	low := strings.ToLower(seg)
	return low == "devices" || strings.HasPrefix(low, "devices(")
}
