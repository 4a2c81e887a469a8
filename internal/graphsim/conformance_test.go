package graphsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// The conformance tests hold what the simulator serializes against Microsoft's published
// v1.0 metadata: every property name must be declared on the entity's type or a base type,
// complex values must match their complex types, enumeration values must be members, and the
// bound actions the simulator accepts must exist with the parameter names it reads. Open
// types (user, device) are checked like closed ones: the simulator emits only declared names.

// conformance walks serialized entities and collects what does not match the metadata.
type conformance struct {
	md *csdl
	// problems are the distinct findings, with item indexes folded to [*] so that one
	// fault in a serializer reads as one line; counts says how often each was seen.
	problems []string
	counts   map[string]int
	// filled counts, per "type.property", the non-empty complex values walked, so that a
	// test can insist that a nested value was really descended into.
	filled map[string]int
}

func newConformance(md *csdl) *conformance {
	return &conformance{md: md, counts: map[string]int{}, filled: map[string]int{}}
}

var itemIndex = regexp.MustCompile(`\[\d+\]`)

func (c *conformance) report(where, format string, args ...any) {
	p := itemIndex.ReplaceAllString(where, "[*]") + ": " + fmt.Sprintf(format, args...)
	if c.counts[p] == 0 {
		c.problems = append(c.problems, p)
	}
	c.counts[p]++
}

// entity checks one serialized entity or complex value declared as typeName. "@odata.type",
// when present, names the runtime type, which must be typeName or derive from it.
func (c *conformance) entity(where, typeName string, obj map[string]any) {
	if raw, ok := obj["@odata.type"].(string); ok {
		derived, _, inSchema := c.md.local(strings.TrimPrefix(raw, "#"))
		switch {
		case !inSchema || c.md.types[derived] == nil:
			c.report(where, "@odata.type %q is not a type of %s", raw, graphNamespace)
			return
		case !c.md.derives(derived, typeName):
			c.report(where, "@odata.type %q does not derive from %s", raw, typeName)
			return
		}
		typeName = derived
	}
	if _, err := c.md.chain(typeName); err != nil {
		c.report(where, "%v", err)
		return
	}
	for _, key := range sortedKeys(obj) {
		// Instance annotations ("@odata.type", "@removed", "x@odata.nextLink") are not
		// properties.
		if strings.Contains(key, "@") {
			continue
		}
		declared, _, ok := c.md.property(typeName, key)
		if !ok {
			c.report(where, "property %q is not declared on %s or its base types", key, typeName)
			continue
		}
		c.value(where+"."+key, declared, obj[key])
		if c.isStructured(declared) && !empty(obj[key]) {
			c.filled[typeName+"."+key]++
		}
	}
}

// value checks a property value against its declared type.
func (c *conformance) value(where, declared string, v any) {
	if v == nil {
		return
	}
	name, collection, inSchema := c.md.local(declared)
	if collection {
		items, ok := v.([]any)
		if !ok {
			c.report(where, "is %T, want a JSON array for %s", v, declared)
			return
		}
		elem := strings.TrimSuffix(strings.TrimPrefix(declared, "Collection("), ")")
		for i, item := range items {
			c.value(fmt.Sprintf("%s[%d]", where, i), elem, item)
		}
		return
	}
	switch {
	case !inSchema:
		c.primitive(where, declared, v)
	case c.md.enums[name] != nil:
		c.enum(where, c.md.enums[name], v)
	case c.md.types[name] != nil:
		obj, ok := v.(map[string]any)
		if !ok {
			c.report(where, "is %T, want a JSON object of type %s", v, name)
			return
		}
		c.entity(where, name, obj)
	default:
		c.report(where, "declared type %s is not in the schema", declared)
	}
}

// enum checks that v is a member name; flag enumerations may combine members with commas.
func (c *conformance) enum(where string, e *csdlEnum, v any) {
	s, ok := v.(string)
	if !ok {
		c.report(where, "is %T, want a string member of enum %s", v, e.Name)
		return
	}
	members := []string{s}
	if e.Flags {
		members = strings.Split(s, ",")
	}
	for _, m := range members {
		if !e.Members[strings.TrimSpace(m)] {
			c.report(where, "value %q is not a member of enum %s", m, e.Name)
		}
	}
}

// primitive checks the JSON shape of an Edm value. Int64 may travel as a string
// (IEEE754Compatible), which the simulator never asks for, so numbers must be numbers.
func (c *conformance) primitive(where, declared string, v any) {
	var ok bool
	switch declared {
	case "Edm.Boolean":
		_, ok = v.(bool)
	case "Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte", "Edm.Double", "Edm.Single", "Edm.Decimal":
		_, ok = v.(float64)
	case "Edm.DateTimeOffset":
		s, isString := v.(string)
		_, err := time.Parse(time.RFC3339, s)
		ok = isString && err == nil
	case "Edm.Guid":
		s, isString := v.(string)
		ok = isString && len(s) == 36 && strings.Count(s, "-") == 4
	case "Edm.String", "Edm.Date", "Edm.TimeOfDay", "Edm.Duration", "Edm.Binary":
		_, ok = v.(string)
	default:
		c.report(where, "type %s is outside %s and not checked", declared, graphNamespace)
		return
	}
	if !ok {
		c.report(where, "value %v (%T) does not fit %s", v, v, declared)
	}
}

// isStructured reports whether a declared type is a complex or entity type, or a collection
// of one.
func (c *conformance) isStructured(declared string) bool {
	name, _, ok := c.md.local(declared)
	return ok && c.md.types[name] != nil
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// requireFilled checks each nested property of a row: the metadata declares it on typeName
// with the given complex type, and the walk descended into at least one non-empty value.
func (c *conformance) requireFilled(t *testing.T, typeName string, nested map[string]string) {
	t.Helper()
	for _, prop := range sortedKeys(nested) {
		declared, _, ok := c.md.property(typeName, prop)
		name, _, _ := c.md.local(declared)
		if !ok || name != nested[prop] || c.md.types[name] == nil || !c.md.types[name].Complex {
			t.Errorf("%s.%s is declared as %q, want complex type %s", typeName, prop, declared, nested[prop])
			continue
		}
		if c.filled[typeName+"."+prop] == 0 {
			t.Errorf("%s.%s was never serialized with a value: nothing of %s was checked",
				typeName, prop, nested[prop])
		}
	}
}

func (c *conformance) fail(t *testing.T) {
	t.Helper()
	for _, p := range c.problems {
		t.Errorf("%s (%d occurrences)", p, c.counts[p])
	}
}

// wire returns v as a client decodes it, so that direct props() maps and HTTP bodies are
// checked alike (Go ints become JSON numbers, []string becomes an array).
func wire(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return out
}

// conformanceFixture names the objects the endpoint table reads, chosen and prepared so that
// every nested value has something in it.
type conformanceFixture struct {
	user, managed, device, domain, unverified string
}

// prepareConformance picks a source user with Authenticator and a managed device, gives that
// device a pending retire and the user a Temporary Access Pass.
func prepareConformance(t *testing.T, s *Server) conformanceFixture {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	tn := tenant(t, s, "source")
	now := s.clock.Now()
	var fx conformanceFixture
	for _, id := range tn.managedOrd {
		md := tn.managed[id]
		u := tn.users[md.UserID]
		if u == nil || len(u.Authenticators) == 0 {
			continue
		}
		md.ManagementState = "retirePending"
		md.Actions = append(md.Actions, &DeviceAction{Name: "retire", State: "pending",
			Start: now, LastUpdated: now})
		u.TAP = &TAPMethod{ID: s.newID(), Created: now, Start: now, LifetimeInMinutes: 60,
			IsUsableOnce: true}
		fx.user, fx.managed = u.ID, md.ID
		fx.device = tn.deviceIndex[strings.ToLower(md.AzureADDeviceID)]
		break
	}
	for _, d := range tn.domains {
		switch {
		case d.Verified && !d.Initial:
			fx.domain = d.Name
		case !d.Verified:
			fx.unverified = d.Name
		}
	}
	if fx.user == "" || fx.device == "" || fx.domain == "" || fx.unverified == "" {
		t.Fatalf("small preset lacks the objects the conformance table needs: %+v", fx)
	}
	return fx
}

func (fx conformanceFixture) expand(path string) string {
	return strings.NewReplacer("{user}", fx.user, "{managed}", fx.managed, "{device}", fx.device,
		"{domain}", fx.domain, "{unverified}", fx.unverified,
		"{userSelect}", strings.Join(sortedKeys(userSelectable), ",")).Replace(path)
}

var (
	userNested = map[string]string{"signInActivity": "signInActivity",
		"assignedLicenses": "assignedLicense", "licenseAssignmentStates": "licenseAssignmentState"}
	managedNested = map[string]string{"deviceActionResults": "deviceActionResult"}
)

// conformanceRow is one endpoint whose responses are checked against a metadata type.
type conformanceRow struct {
	path     string // with {user}, {managed}, {device}, {domain}, {unverified}, {userSelect}
	typeName string // declared type of the entity or of the collection's items
	single   bool   // the response is one entity rather than a collection
	// nested maps complex properties to their complex types; each must be present with a
	// value in the response and is descended into (others are descended into too, when
	// present, but not required).
	nested map[string]string
}

var conformanceRows = []conformanceRow{
	{path: "/users?$select={userSelect}", typeName: "user", nested: userNested},
	{path: "/users", typeName: "user"},
	{path: "/users/{user}?$select={userSelect}", typeName: "user", single: true, nested: userNested},
	{path: "/users/{user}", typeName: "user", single: true},
	{path: "/users/delta?$select=id,userPrincipalName,accountEnabled", typeName: "user"},
	{path: "/deviceManagement/managedDevices", typeName: "managedDevice", nested: managedNested},
	{path: "/deviceManagement/managedDevices/{managed}", typeName: "managedDevice", single: true,
		nested: managedNested},
	{path: "/users/{user}/managedDevices", typeName: "managedDevice", nested: managedNested},
	{path: "/devices", typeName: "device"},
	{path: "/devices/{device}", typeName: "device", single: true},
	{path: "/users/{user}/authentication/methods", typeName: "authenticationMethod"},
	{path: "/users/{user}/authentication/microsoftAuthenticatorMethods",
		typeName: "microsoftAuthenticatorAuthenticationMethod"},
	{path: "/users/{user}/authentication/temporaryAccessPassMethods",
		typeName: "temporaryAccessPassAuthenticationMethod"},
	{path: "/reports/authenticationMethods/userRegistrationDetails",
		typeName: "userRegistrationDetails"},
	{path: "/domains", typeName: "domain"},
	{path: "/domains/{domain}", typeName: "domain", single: true},
	{path: "/domains/{unverified}/verificationDnsRecords", typeName: "domainDnsRecord"},
	{path: "/domains/{domain}/domainNameReferences", typeName: "directoryObject"},
	{path: "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
		typeName: "temporaryAccessPassAuthenticationMethodConfiguration", single: true},
	{path: "/subscribedSkus", typeName: "subscribedSku"},
}

// TestEndpointsConformToMetadata reads every endpoint of the table over HTTP and checks each
// entity in the response against the metadata.
func TestEndpointsConformToMetadata(t *testing.T) {
	md := graphMetadata(t)
	s := startSim(t, Options{Preset: "small"})
	fx := prepareConformance(t, s)
	tok := token(t, s, "source", "cutover")

	for _, row := range conformanceRows {
		path := fx.expand(row.path)
		t.Run(row.path, func(t *testing.T) {
			resp := do(t, s, tok, http.MethodGet, path, nil)
			if resp.Status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, resp.Status, resp.Raw)
			}
			c := newConformance(md)
			for i, item := range rowItems(t, row, resp) {
				c.entity(fmt.Sprintf("%s[%d]", row.path, i), row.typeName, item)
			}
			c.fail(t)
			c.requireFilled(t, row.typeName, row.nested)
		})
	}
}

// rowItems returns the entities of a response: the body itself, or the collection's items,
// of which there must be at least one for the row to check anything.
func rowItems(t *testing.T, row conformanceRow, resp graphResponse) []map[string]any {
	t.Helper()
	if row.single {
		return []map[string]any{resp.Body}
	}
	raw, ok := resp.Body["value"].([]any)
	if !ok {
		t.Fatalf("response has no value array: %s", resp.Raw)
	}
	if len(raw) == 0 {
		t.Fatalf("collection is empty: nothing checked")
	}
	items := make([]map[string]any, 0, len(raw))
	for i, v := range raw {
		obj, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("value[%d] is %T, want an object", i, v)
		}
		items = append(items, obj)
	}
	return items
}

// TestSerializersConformToMetadata calls the props serializers directly, which covers types
// whose endpoints may not be served yet and every state an entity can be in.
func TestSerializersConformToMetadata(t *testing.T) {
	md := graphMetadata(t)
	s, err := New(Options{Preset: "small"})
	if err != nil {
		t.Fatalf("new simulator: %v", err)
	}
	now := s.clock.Now()

	type serialized struct {
		typeName string
		props    []map[string]any
		nested   map[string]string
	}
	var users, managed, devices, authenticators []map[string]any
	for _, tn := range s.tenants {
		for _, id := range tn.userOrder {
			u := tn.users[id]
			users = append(users, u.props())
			for _, a := range u.Authenticators {
				authenticators = append(authenticators, a.props())
			}
		}
		for _, id := range tn.managedOrd {
			managed = append(managed, tn.managed[id].props())
		}
		for _, id := range tn.deviceOrd {
			devices = append(devices, tn.devices[id].props())
		}
	}
	managed = append(managed, managedDeviceInEveryActionState(now)...)

	cases := map[string]serialized{
		"User":                {"user", users, userNested},
		"ManagedDevice":       {"managedDevice", managed, managedNested},
		"Device":              {"device", devices, nil},
		"AuthenticatorMethod": {"microsoftAuthenticatorAuthenticationMethod", authenticators, nil},
		"TAPMethod":           {"temporaryAccessPassAuthenticationMethod", tapInEveryState(now), nil},
	}
	for _, name := range sortedKeys(cases) {
		tc := cases[name]
		t.Run(name, func(t *testing.T) {
			if len(tc.props) == 0 {
				t.Fatal("the small preset serialized none: nothing checked")
			}
			c := newConformance(md)
			for i, p := range tc.props {
				c.entity(fmt.Sprintf("%s[%d]", name, i), tc.typeName, wire(t, p))
			}
			c.fail(t)
			c.requireFilled(t, tc.typeName, tc.nested)
		})
	}
}

// managedDeviceInEveryActionState serializes a device for each management state a retire or
// wipe passes through, with action results in every state.
func managedDeviceInEveryActionState(now time.Time) []map[string]any {
	var out []map[string]any
	steps := []struct{ action, state, management string }{
		{"retire", "pending", "retirePending"},
		{"retire", "active", "retireIssued"},
		{"retire", "failed", "retireFailed"},
		{"wipe", "pending", "wipePending"},
		{"wipe", "done", "wipeIssued"},
		{"wipe", "canceled", "wipeCanceled"},
		{"delete", "pending", "deletePending"},
	}
	for _, st := range steps {
		d := &ManagedDevice{ID: "md", OS: "iOS", OwnerType: "personal", Compliance: "noncompliant",
			EnrollmentType: "appleUserEnrollment", ManagementState: st.management, IMEI: "350000000000000",
			Actions: []*DeviceAction{{Name: st.action, State: st.state, Start: now, LastUpdated: now}}}
		out = append(out, d.props())
	}
	return out
}

// tapInEveryState serializes a Temporary Access Pass before, during and after its lifetime,
// used once, and as written (zero now).
func tapInEveryState(now time.Time) []map[string]any {
	p := &TAPMethod{ID: "tap", Created: now, Start: now.Add(time.Hour), LifetimeInMinutes: 60,
		IsUsableOnce: true}
	used := *p
	used.Used = true
	return []map[string]any{
		p.props(time.Time{}),
		p.props(now),
		p.props(now.Add(90 * time.Minute)),
		p.props(now.Add(3 * time.Hour)),
		used.props(now.Add(90 * time.Minute)),
	}
}

// TestConformanceCheckerFinds makes sure the walk reports what it is meant to: without this,
// a checker that accepted everything would pass every test above.
func TestConformanceCheckerFinds(t *testing.T) {
	md := graphMetadata(t)
	cases := []struct {
		name     string
		typeName string
		obj      map[string]any
		want     string // substring of the single expected problem; empty for none
	}{
		{"declared names", "user", map[string]any{"id": "x", "displayName": "A", "@odata.etag": "W/1"}, ""},
		{"base type property", "managedDevice", map[string]any{"id": "x"}, ""},
		{"undeclared name", "user", map[string]any{"upn": "a@b"}, `property "upn" is not declared on user`},
		{"case matters", "user", map[string]any{"DisplayName": "A"}, `"DisplayName" is not declared`},
		{"nested complex", "user", map[string]any{"signInActivity": map[string]any{"lastLogon": nil}},
			`user.signInActivity: property "lastLogon" is not declared on signInActivity`},
		{"collection item", "user", map[string]any{"assignedLicenses": []any{map[string]any{"sku": "x"}}},
			`assignedLicenses[*]: property "sku" is not declared on assignedLicense`},
		{"enum member", "managedDevice", map[string]any{"managementState": "retired"},
			`"retired" is not a member of enum managementState`},
		{"enum in complex", "managedDevice", map[string]any{"deviceActionResults": []any{
			map[string]any{"actionName": "retire", "actionState": "Pending"}}}, `"Pending" is not a member`},
		{"derived type", "authenticationMethod", map[string]any{
			"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
			"deviceTag":   "SoftwareTokenActivated"}, ""},
		{"derived property on base", "authenticationMethod", map[string]any{"deviceTag": "x"},
			`"deviceTag" is not declared on authenticationMethod`},
		{"unrelated odata.type", "user", map[string]any{"@odata.type": "#microsoft.graph.device"},
			"does not derive from user"},
		{"other schema's type", "user", map[string]any{"@odata.type": "#microsoft.graph.security.user"},
			"is not a type of microsoft.graph"},
		{"primitive shape", "user", map[string]any{"accountEnabled": "true"}, "does not fit Edm.Boolean"},
		{"time format", "user", map[string]any{"createdDateTime": "yesterday"},
			"does not fit Edm.DateTimeOffset"},
		{"array for collection", "user", map[string]any{"proxyAddresses": "SMTP:a@b"}, "want a JSON array"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newConformance(md)
			c.entity(tc.typeName, tc.typeName, tc.obj)
			switch {
			case tc.want == "" && len(c.problems) != 0:
				t.Errorf("problems %q, want none", c.problems)
			case tc.want != "" && (len(c.problems) != 1 || !strings.Contains(c.problems[0], tc.want)):
				t.Errorf("problems %q, want one containing %q", c.problems, tc.want)
			}
		})
	}
}

// boundOperation is a bound action or function the simulator serves, with the parameter
// names it reads from the request body.
type boundOperation struct {
	binding  string // local type name, or Collection(name)
	name     string
	function bool
	params   []string
	returns  string // declared return type, when the simulator's response depends on it
	// foldCase compares parameter names case-insensitively. Only sendMail needs it: the
	// metadata spells Message and SaveToSentItems, the documentation and clients message and
	// saveToSentItems, and the simulator accepts both (GRAPH.md section 8).
	foldCase bool
}

var boundOperations = []boundOperation{
	{binding: "user", name: "revokeSignInSessions", returns: "Edm.Boolean"},
	{binding: "managedDevice", name: "retire"},
	{binding: "managedDevice", name: "wipe",
		params: []string{"keepEnrollmentData", "keepUserData", "macOsUnlockCode", "persistEsimDataPlan"}},
	{binding: "domain", name: "forceDelete", params: []string{"disableUserAccounts"}},
	{binding: "domain", name: "verify", returns: "graph.domain"},
	{binding: "user", name: "sendMail", params: []string{"message", "saveToSentItems"}, foldCase: true},
	{binding: "user", name: "assignLicense", params: []string{"addLicenses", "removeLicenses"},
		returns: "graph.user"},
	{binding: "Collection(user)", name: "delta", function: true, returns: "Collection(graph.user)"},
}

// TestBoundOperationsConformToMetadata checks that each operation exists bound to its type
// and that the parameters the simulator reads are exactly those the metadata declares.
func TestBoundOperationsConformToMetadata(t *testing.T) {
	md := graphMetadata(t)
	for _, tc := range boundOperations {
		t.Run(tc.binding+"/"+tc.name, func(t *testing.T) {
			op := md.bound(tc.name, tc.binding)
			if op == nil {
				t.Fatalf("no operation %s bound to %s in the metadata", tc.name, tc.binding)
			}
			if op.Function != tc.function {
				t.Errorf("%s is a function: %v, want %v", tc.name, op.Function, tc.function)
			}
			if tc.returns != "" && op.Returns != tc.returns {
				t.Errorf("%s returns %q, want %q", tc.name, op.Returns, tc.returns)
			}
			same := func(a, b string) bool { return a == b || tc.foldCase && strings.EqualFold(a, b) }
			if missing := absent(tc.params, op.Params, same); len(missing) > 0 {
				t.Errorf("parameters %q are not declared on %s (declared: %q)", missing, tc.name, op.Params)
			}
			if extra := absent(op.Params, tc.params, same); len(extra) > 0 {
				t.Errorf("declared parameters %q are not in the simulator's list", extra)
			}
		})
	}
}

// absent returns the names of want that have no match in have.
func absent(want, have []string, same func(a, b string) bool) []string {
	var out []string
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || same(w, h)
		}
		if !found {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}
