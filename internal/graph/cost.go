package graph

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// family is the throttling service a request belongs to: each has its own published limits.
type family int

const (
	familyNone     family = iota // the $batch envelope: its items are charged one by one
	familyIdentity               // users, groups, devices, domains, applications
	familyIntune                 // deviceManagement and users/{id}/managedDevices
	familyReports                // reports and audit logs
	familyOutlook                // users/{id}/sendMail
)

// cost is what one request costs against the published limits (GRAPH.md 12.2, 12.5, 12.6).
type cost struct {
	family  family
	ru      int    // Entra resource units, identity only
	write   bool   // POST, PUT, PATCH or DELETE that changes state
	mailbox string // the sending mailbox, Outlook only
}

// listedRU is the published resource-unit cost of GET paths that cost more than 1 RU, by the
// shape of the path ("*" stands for one id segment).
var listedRU = map[string]int{
	"users":                                  2,
	"applications":                           2,
	"applications/*/extensionproperties":     2,
	"contracts":                              3,
	"subscribedskus":                         3,
	"domains/*/domainnamereferences":         4,
	"groups/*/members":                       3,
	"groups/*/transitivemembers":             5,
	"users/*/licensedetails":                 2,
	"users/*/memberof":                       2,
	"users/*/ownedobjects":                   2,
	"users/*/transitivememberof":             2,
	"me/licensedetails":                      2,
	"me/memberof":                            2,
	"me/ownedobjects":                        2,
	"me/transitivememberof":                  2,
	"oauth2permissiongrants":                 2,
	"serviceprincipals/*/approleassignments": 2,
}

// postReads are POST actions that read: they cost resource units but no write.
var postReads = map[string]int{
	"directoryobjects/getbyids":   5,
	"getobjectsbyid":              5,
	"users/*/checkmembergroups":   4,
	"users/*/checkmemberobjects":  4,
	"me/checkmembergroups":        4,
	"me/checkmemberobjects":       4,
	"users/*/getmembergroups":     2,
	"users/*/getmemberobjects":    2,
	"me/getmembergroups":          2,
	"me/getmemberobjects":         2,
	"groups/*/checkmembergroups":  4,
	"groups/*/checkmemberobjects": 4,
}

// costOf returns the published cost of a request. path is relative to the version root.
func costOf(method, path string, query url.Values) cost {
	segs := strings.Split(strings.ToLower(strings.Trim(path, "/")), "/")
	write := method != http.MethodGet && method != http.MethodHead
	switch {
	case len(segs) == 1 && segs[0] == "$batch":
		return cost{family: familyNone}
	case segs[0] == "devicemanagement" || (segs[0] == "users" && len(segs) >= 3 && segs[2] == "manageddevices"):
		return cost{family: familyIntune, write: write}
	case segs[0] == "users" && len(segs) == 3 && segs[2] == "sendmail":
		return cost{family: familyOutlook, write: true, mailbox: segs[1]}
	case segs[0] == "reports" || segs[0] == "auditlogs":
		return cost{family: familyReports, ru: 1, write: write}
	}
	if method == http.MethodPost {
		if ru, ok := lookupPath(postReads, segs); ok {
			if query.Get("$select") != "" && ru == 5 {
				ru = 2
			}
			return cost{family: familyIdentity, ru: ru}
		}
	}
	if write {
		return cost{family: familyIdentity, ru: 1, write: true}
	}
	ru := 1
	if n, ok := lookupPath(listedRU, segs); ok {
		ru = n
	}
	return cost{family: familyIdentity, ru: readModifiers(ru, query)}
}

// readModifiers applies the published query modifiers: $select −1, $expand +1, $top below
// 20 −1, never below 1.
func readModifiers(ru int, q url.Values) int {
	if q.Get("$select") != "" {
		ru--
	}
	if q.Get("$expand") != "" {
		ru++
	}
	if top, err := strconv.Atoi(q.Get("$top")); err == nil && top < 20 {
		ru--
	}
	return max(ru, 1)
}

// lookupPath finds a path in a cost table: literally, by its shape with ids replaced by "*",
// or (for type casts such as domainNameReferences/microsoft.graph.user) by its first three
// segments.
func lookupPath(table map[string]int, segs []string) (int, bool) {
	if n, ok := table[strings.Join(segs, "/")]; ok {
		return n, true
	}
	shape := pathShape(segs)
	if n, ok := table[strings.Join(shape, "/")]; ok {
		return n, true
	}
	if len(shape) > 3 {
		n, ok := table[strings.Join(shape[:3], "/")]
		return n, ok
	}
	return 0, false
}

// pathShape replaces id segments with "*": every second segment of a directory path is an
// id, except under me/, which addresses the caller without one.
func pathShape(segs []string) []string {
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = s
		if i%2 == 1 && segs[0] != "me" {
			out[i] = "*"
		}
	}
	// Alternate keys such as devices(deviceId='…') carry the id in the first segment.
	if k := strings.IndexByte(out[0], '('); k > 0 {
		out[0] = out[0][:k]
	}
	return out
}
