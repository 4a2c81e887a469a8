package graphsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// intuneRoutes registers the Intune managed-device endpoints (GRAPH.md 4). Intune serves
// them behind Graph: its errors keep Graph's envelope, but with Intune's own codes
// (BadRequest, ResourceNotFound) rather than the directory's Request_* ones, and a message
// that is itself a JSON document (intuneFail).
func (s *Server) intuneRoutes() {
	s.handle("managedDevices.list", http.MethodGet, "deviceManagement/managedDevices",
		permIntuneRead, s.intune(s.listManagedDevices))
	s.handle("managedDevices.get", http.MethodGet, "deviceManagement/managedDevices/{id}",
		permIntuneRead, s.intune(s.getManagedDevice))
	s.handle("managedDevices.delete", http.MethodDelete, "deviceManagement/managedDevices/{id}",
		permIntuneWrite, s.intune(s.deleteManagedDevice))
	s.handle("managedDevices.retire", http.MethodPost,
		"deviceManagement/managedDevices/{id}/retire", permIntunePriv, s.intune(s.retireManagedDevice))
	// The v1.0 page also lists ReadWrite.All for wipe, other versions of it only
	// PrivilegedOperations.All (GRAPH.md 4.4). The simulator demands the latter, so that a
	// client that works here also works where the stricter reading applies.
	s.handle("managedDevices.wipe", http.MethodPost,
		"deviceManagement/managedDevices/{id}/wipe", permIntunePriv, s.intune(s.wipeManagedDevice))
	s.handle("users.managedDevices.list", http.MethodGet, "users/{id}/managedDevices",
		permIntuneRead, s.intune(s.listUserManagedDevices))
}

// intune wraps an Intune handler with the licence check: a tenant without an active Intune
// licence answers every Intune call with 400.
func (s *Server) intune(h func(c *call)) func(c *call) {
	return func(c *call) {
		if !c.tenant.intune {
			c.fail(http.StatusBadRequest, "BadRequest", "Request not applicable to target tenant.")
			return
		}
		h(c)
	}
}

// intuneError is the document Intune puts, serialised, in error.message.
type intuneError struct {
	Version              int     `json:"_version"`
	Message              string  `json:"Message"`
	CustomAPIErrorPhrase string  `json:"CustomApiErrorPhrase"`
	RetryAfter           *string `json:"RetryAfter"`
	ErrorSourceService   string  `json:"ErrorSourceService"`
	HTTPHeaders          string  `json:"HttpHeaders"`
}

// intuneFail answers with Intune's error shape: error.message holds a serialised document
// whose Message names the Intune front-end URL and carries the request id as the Activity
// ID. detail leads the Message; Intune usually says no more than "An error has occurred".
func (c *call) intuneFail(status int, code, detail string) {
	doc := intuneError{Version: 3, HTTPHeaders: "{}", Message: fmt.Sprintf(
		"%s - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - "+
			"Activity ID: %s - Url: %s", detail, c.entry.RequestID, c.intuneURL())}
	b, _ := json.MarshalIndent(doc, "", "  ")
	c.fail(status, code, strings.ReplaceAll(string(b), "\n", "\r\n"))
}

// intuneURL renders the request as Intune's front end sees it: keys in OData parentheses
// and actions under Intune's own namespace.
func (c *call) intuneURL() string {
	var b strings.Builder
	b.WriteString("https://fef.msua01.manage.microsoft.com/DeviceFE/StatelessDeviceFEService")
	segs := strings.Split(strings.Trim(strings.TrimPrefix(c.r.URL.Path, "/v1.0"), "/"), "/")
	for i, seg := range segs {
		switch {
		case c.route != nil && i < len(c.route.segs) && c.route.segs[i] == "{id}":
			b.WriteString(url.PathEscape("('" + seg + "')"))
		case i == len(segs)-1 && (seg == "retire" || seg == "wipe"):
			b.WriteString("/microsoft.management.services.api." + seg)
		default:
			b.WriteString("/" + seg)
		}
	}
	b.WriteString("?api-version=2024-05-23")
	return b.String()
}

const intuneErrorDetail = "An error has occurred"

// intuneFilterOps lists the managedDevice properties Intune filters on and the operators
// each accepts, from the metadata's descriptions ("Supports $filter operator 'eq' and
// 'or'"). userId is not annotated there but is the filter everyone uses and Intune serves.
// contains and ne, which the metadata also names for a few properties, are not simulated.
var intuneFilterOps = map[string][]string{
	"userId": {"eq"}, "azureADDeviceId": {"eq"}, "complianceState": {"eq"},
	"deviceCategoryDisplayName": {"eq"}, "deviceName": {"eq"}, "exchangeAccessState": {"eq"},
	"imei": {"eq"}, "jailBroken": {"eq"}, "managementAgent": {"eq"}, "managementState": {"eq"},
	"manufacturer": {"eq"}, "model": {"eq"}, "operatingSystem": {"eq"}, "serialNumber": {"eq"},
	"userPrincipalName": {"eq"}, "enrolledDateTime": {"lt", "gt"},
	"lastSyncDateTime": {"lt", "gt"}, "complianceGracePeriodExpirationDateTime": {"lt", "gt"},
}

// checkIntuneFilter answers Intune's 400 unless $filter is made only of comparisons Intune
// supports, joined by and, or and parentheses.
func (c *call) checkIntuneFilter() bool {
	f := c.query.Get("$filter")
	if f == "" {
		return true
	}
	if _, err := parseFilter(f); err != nil || !intuneFilterSupported(tokenize(f)) {
		c.intuneFail(http.StatusBadRequest, "BadRequest", intuneErrorDetail)
		return false
	}
	return true
}

func intuneFilterSupported(toks []string) bool {
	for i := 0; i < len(toks); i++ {
		switch strings.ToLower(toks[i]) {
		case "(", ")", "and", "or":
			continue
		}
		if i+2 >= len(toks) {
			return false
		}
		if !slices.Contains(intuneFilterOpsOf(toks[i]), strings.ToLower(toks[i+1])) {
			return false
		}
		i += 2 // the operator and its literal
	}
	return true
}

// intuneFilterOpsOf looks a property up case-insensitively, as Graph matches names.
func intuneFilterOpsOf(prop string) []string {
	for name, ops := range intuneFilterOps {
		if strings.EqualFold(name, prop) {
			return ops
		}
	}
	return nil
}

func (s *Server) managedDeviceSpec(c *call, context string, ids []string) listSpec {
	t := c.tenant
	return listSpec{
		context: context, typeName: "microsoft.graph.managedDevice",
		total: len(ids), known: managedDeviceSelectable,
		item: func(i int) map[string]any {
			if d := t.managed[ids[i]]; d != nil {
				return d.props()
			}
			return nil
		},
		// Intune's page size is not published (GRAPH.md 15); it serves pages of 1,000.
		defaultTop: 1000, maxTop: 1000,
		filterable: true,
	}
}

func (s *Server) listManagedDevices(c *call) {
	if c.checkIntuneFilter() {
		c.list(s.managedDeviceSpec(c, "deviceManagement/managedDevices", c.tenant.managedOrd))
	}
}

// listUserManagedDevices serves a user's devices. An unknown user gives Intune's 404 rather
// than an empty list, so that a mistyped id is not read as "has no devices".
func (s *Server) listUserManagedDevices(c *call) {
	t := c.tenant
	u := t.userByKey(c.param("id"))
	if u == nil {
		c.intuneFail(http.StatusNotFound, "ResourceNotFound", intuneErrorDetail)
		return
	}
	if !c.checkIntuneFilter() {
		return
	}
	var ids []string
	for _, id := range t.managedOrd {
		if t.managed[id].UserID == u.ID {
			ids = append(ids, id)
		}
	}
	c.list(s.managedDeviceSpec(c, "users('"+u.ID+"')/managedDevices", ids))
}

// findManagedDevice resolves {id} or answers Intune's 404.
func (c *call) findManagedDevice() *ManagedDevice {
	d := c.tenant.managed[c.param("id")]
	if d == nil {
		c.intuneFail(http.StatusNotFound, "ResourceNotFound", intuneErrorDetail)
	}
	return d
}

func (s *Server) getManagedDevice(c *call) {
	if d := c.findManagedDevice(); d != nil {
		c.getOne(s.managedDeviceSpec(c, "deviceManagement/managedDevices", nil), d.props())
	}
}

// deleteManagedDevice removes the Intune record only (GRAPH.md 4.5): the Entra device object
// stays, and a check-in that was due no longer finds the record.
func (s *Server) deleteManagedDevice(c *call) {
	if d := c.findManagedDevice(); d != nil {
		c.tenant.removeManagedDevice(d.ID)
		c.noContent(http.StatusNoContent)
	}
}

// retireManagedDevice issues a retire, which the device carries out at its next check-in.
//
// A retire on a device that already has a retire or a wipe pending answers 204 and changes
// nothing: no second deviceActionResults entry, no new check-in. Real Intune's answer is
// UNCERTAIN (GRAPH.md 4.3); this choice makes a resend after an ambiguous failure harmless,
// and cutover reads the state before resending either way.
func (s *Server) retireManagedDevice(c *call) {
	if _, ok := c.actionParams("retire", nil); !ok {
		return
	}
	d := c.findManagedDevice()
	if d == nil {
		return
	}
	if !d.pending("retire") && !d.pending("wipe") {
		s.issueAction(c, d, "retire", "retirePending")
	}
	c.noContent(http.StatusNoContent)
}

// wipeParams are the parameters of the v1.0 wipe action in the metadata, with their JSON
// types. obliterationBehavior and useProtectedWipe are not among them (GRAPH.md 4.4).
var wipeParams = map[string]string{
	"keepEnrollmentData": "Edm.Boolean", "keepUserData": "Edm.Boolean",
	"macOsUnlockCode": "Edm.String", "persistEsimDataPlan": "Edm.Boolean",
}

// wipeManagedDevice issues a factory reset, carried out at the device's next check-in. As
// with retire, a wipe while a wipe is pending answers 204 and changes nothing (the first
// wipe's options stand); a wipe while a retire is pending is issued, being the stronger
// action.
func (s *Server) wipeManagedDevice(c *call) {
	params, ok := c.actionParams("wipe", wipeParams)
	if !ok {
		return
	}
	d := c.findManagedDevice()
	if d == nil {
		return
	}
	if !d.pending("wipe") {
		var w WipeOptions
		// The values were type-checked by actionParams; null leaves the default.
		_ = json.Unmarshal(params["keepEnrollmentData"], &w.KeepEnrollmentData)
		_ = json.Unmarshal(params["keepUserData"], &w.KeepUserData)
		_ = json.Unmarshal(params["macOsUnlockCode"], &w.MacOSUnlockCode)
		_ = json.Unmarshal(params["persistEsimDataPlan"], &w.PersistEsimDataPlan)
		d.Wipe = &w
		s.issueAction(c, d, "wipe", "wipePending")
	}
	c.noContent(http.StatusNoContent)
}

// actionParams reads the optional JSON body of a bound action whose parameters (name to
// Edm type) are params. It refuses a parameter the action does not declare and a value of
// the wrong type with 400, as OData does; instance annotations (@odata.type...) pass.
func (c *call) actionParams(action string, params map[string]string) (
	map[string]json.RawMessage, bool) {
	if len(strings.TrimSpace(string(c.body))) == 0 {
		return map[string]json.RawMessage{}, true
	}
	var body map[string]json.RawMessage
	if !c.requireJSONContentType() || !c.decodeBody(&body) {
		return nil, false
	}
	for _, name := range sortedKeys(body) {
		if strings.HasPrefix(name, "@") {
			continue
		}
		typ, ok := params[name]
		if !ok {
			c.intuneFail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("The parameter '%s' in "+
				"the request payload is not a valid parameter for the operation '%s'.", name, action))
			return nil, false
		}
		if !jsonHasType(body[name], typ) {
			c.intuneFail(http.StatusBadRequest, "BadRequest", fmt.Sprintf(
				"Cannot convert a primitive value to the expected type '%s'.", typ))
			return nil, false
		}
	}
	return body, true
}

// jsonHasType reports whether raw is null or a JSON value of the Edm type typ.
func jsonHasType(raw json.RawMessage, typ string) bool {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false
	}
	switch v.(type) {
	case nil:
		return true
	case bool:
		return typ == "Edm.Boolean"
	case string:
		return typ == "Edm.String"
	}
	return false
}

// pending reports whether an action of that name waits for the device to check in.
func (d *ManagedDevice) pending(name string) bool {
	for _, a := range d.Actions {
		if a.Name == name && a.State == "pending" {
			return true
		}
	}
	return false
}

// issueAction records a remote action as pending and makes sure the device will check in.
// deviceActionResults keeps one entry per action name, the latest, as Intune shows it.
func (s *Server) issueAction(c *call, d *ManagedDevice, name, state string) {
	d.Actions = slices.DeleteFunc(d.Actions, func(a *DeviceAction) bool { return a.Name == name })
	d.Actions = append(d.Actions, &DeviceAction{Name: name, State: "pending", Start: c.now,
		LastUpdated: c.now})
	d.ManagementState = state
	if d.CheckIn.IsZero() {
		t, at := c.tenant, c.now.Add(s.checkInDelay())
		d.CheckIn = at
		s.schedule(at, func() { s.checkIn(t, d, at) })
	}
}

// checkInDelay draws how long a device takes to pick up a remote action. Intune pushes a
// notification when an action is issued, so a device that is on and online checks in
// within minutes (here seven in ten, 5 to 30 minutes); one that is off or asleep picks the
// action up at a later sync, up to the roughly eight-hour regular check-in. The draw comes
// from the simulator's seeded source, so a seed replays the same delays.
func (s *Server) checkInDelay() time.Duration {
	if s.rng.Float64() < 0.7 {
		return 5*time.Minute + time.Duration(s.rng.IntN(25*60))*time.Second
	}
	return 30*time.Minute + time.Duration(s.rng.IntN(450*60))*time.Second
}

// checkIn is the device contacting Intune and carrying out every pending action. A retire
// removes company data and management, a wipe resets the device; either way the device
// unenrols, its record leaves the tenant (it then answers 404, GRAPH.md 4.6) and its Entra
// object is no longer managed. The exception is a wipe that keeps enrolment data: the
// device comes back from the reset still enrolled and stays listed as managed. Removed
// records are kept for the inspection API.
func (s *Server) checkIn(t *Tenant, d *ManagedDevice, at time.Time) {
	if t.managed[d.ID] != d || !d.CheckIn.Equal(at) {
		return // deleted meanwhile
	}
	d.CheckIn = time.Time{}
	d.LastSync = at
	var retired, wiped bool
	for _, a := range d.Actions {
		if a.State != "pending" {
			continue
		}
		a.State, a.LastUpdated = "done", at
		retired = retired || a.Name == "retire"
		wiped = wiped || a.Name == "wipe"
	}
	switch {
	case wiped && !retired && d.Wipe.KeepEnrollmentData:
		d.ManagementState = "managed"
		return
	case wiped:
		d.ManagementState = "wipeIssued"
	case retired:
		d.ManagementState = "retireIssued"
	default:
		return
	}
	t.removeManagedDevice(d.ID)
	t.released = append(t.released, d)
	t.markUnmanaged(d.AzureADDeviceID)
}
