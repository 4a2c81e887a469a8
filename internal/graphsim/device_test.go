package graphsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

var simStart = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

const mdPath = "/deviceManagement/managedDevices"

// deviceSim starts a small simulator whose clock stands still unless a test advances it, so
// that check-in times are exact.
func deviceSim(t *testing.T, seed uint64) *Server {
	t.Helper()
	frozen := time.Now()
	return startSim(t, Options{Seed: seed, Start: simStart, Now: func() time.Time { return frozen }})
}

// listAll follows @odata.nextLink from path and returns every item.
func listAll(t *testing.T, s *Server, tok, path string) []map[string]any {
	t.Helper()
	var items []map[string]any
	for next := path; next != ""; {
		r := do(t, s, tok, http.MethodGet, next, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", next, r.Status, r.Raw)
		}
		for _, v := range r.Body["value"].([]any) {
			items = append(items, v.(map[string]any))
		}
		next, _ = r.Body["@odata.nextLink"].(string)
	}
	return items
}

func ids(items []map[string]any) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it["id"].(string))
	}
	return out
}

// intuneMessage decodes the Intune document that Intune errors carry in error.message.
func intuneMessage(t *testing.T, r graphResponse) intuneError {
	t.Helper()
	e, _ := r.Body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	var doc intuneError
	if err := json.Unmarshal([]byte(msg), &doc); err != nil {
		t.Fatalf("error.message is not Intune's document: %q: %v", msg, err)
	}
	if doc.Version != 3 || !strings.Contains(doc.Message, "Activity ID: "+r.Header.Get("request-id")) {
		t.Errorf("Intune message %+v does not carry the request id %s", doc, r.Header.Get("request-id"))
	}
	return doc
}

func TestManagedDevicesListPagingAndSelect(t *testing.T) {
	t.Parallel()
	s := deviceSim(t, 1)
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover-readonly")

	got := listAll(t, s, tok, mdPath+"?$top=7&$select=id,deviceName,managementState")
	if want := src.managedOrd; !slices.Equal(ids(got), want) {
		t.Fatalf("paged listing gave %d ids, want the %d devices in order", len(got), len(want))
	}
	for _, it := range got {
		delete(it, "@odata.type")
		if len(it) != 3 || it["managementState"] != "managed" || it["deviceName"] == "" {
			t.Fatalf("selected item %v, want exactly id, deviceName, managementState=managed", it)
		}
	}

	r := do(t, s, tok, http.MethodGet, mdPath, nil)
	ctx, _ := r.Body["@odata.context"].(string)
	if !strings.HasSuffix(ctx, "$metadata#deviceManagement/managedDevices") {
		t.Errorf("@odata.context %q", ctx)
	}
	first := r.Body["value"].([]any)[0].(map[string]any)
	for _, p := range []string{"userId", "userPrincipalName", "azureADDeviceId", "operatingSystem",
		"osVersion",
		"managedDeviceOwnerType", "serialNumber", "lastSyncDateTime", "deviceActionResults"} {
		if _, ok := first[p]; !ok {
			t.Errorf("default item lacks %s", p)
		}
	}

	// A metadata property the simulator does not model selects as null; an unknown one is 400.
	r = do(t, s, tok, http.MethodGet, mdPath+"?$top=1&$select=id,udid", nil)
	if v := r.Body["value"].([]any)[0].(map[string]any); r.Status != http.StatusOK || v["udid"] != nil {
		t.Errorf("select udid: %d %s", r.Status, r.Raw)
	}
	r = do(t, s, tok, http.MethodGet, mdPath+"?$select=id,colour", nil)
	if r.Status != http.StatusBadRequest {
		t.Errorf("select unknown property: %d, want 400", r.Status)
	}
}

func TestManagedDevicesFilter(t *testing.T) {
	t.Parallel()
	s := deviceSim(t, 1)
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	var d0 *ManagedDevice
	locked(s, func() { d0 = src.managed[src.managedOrd[3]] })

	match := func(keep func(d *ManagedDevice) bool) []string {
		var out []string
		locked(s, func() {
			for _, id := range src.managedOrd {
				if keep(src.managed[id]) {
					out = append(out, id)
				}
			}
		})
		return out
	}
	// One device leaves the managed state, so the managementState filter has something to split.
	r := do(t, s, tok, http.MethodPost, mdPath+"/"+d0.ID+"/retire", nil)
	if r.Status != http.StatusNoContent {
		t.Fatalf("retire: %d %s", r.Status, r.Raw)
	}

	tests := []struct {
		name, filter string
		want         []string
	}{
		{"userId", "userId eq '" + d0.UserID + "'",
			match(func(d *ManagedDevice) bool { return d.UserID == d0.UserID })},
		{"operatingSystem", "operatingSystem eq 'iOS'",
			match(func(d *ManagedDevice) bool { return d.OS == "iOS" })},
		{"managementState", "managementState eq 'retirePending'", []string{d0.ID}},
		{"managementState or", "managementState eq 'managed' or managementState eq 'retirePending'",
			src.managedOrd},
		{"serialNumber", "serialNumber eq '" + d0.SerialNumber + "'", []string{d0.ID}},
		{"and", "operatingSystem eq 'Windows' and userId eq '" + d0.UserID + "'",
			match(func(d *ManagedDevice) bool { return d.OS == "Windows" && d.UserID == d0.UserID })},
		{"lastSyncDateTime", "lastSyncDateTime gt 2025-06-02T08:00:00Z",
			match(func(d *ManagedDevice) bool { return d.LastSync.After(simStart.Add(-time.Hour)) })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A small page makes the filter travel through the next links too.
			got := listAll(t, s, tok, mdPath+"?$top=2&$filter="+url.PathEscape(tc.filter))
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("got %v, want %v", ids(got), tc.want)
			}
		})
	}

	for _, f := range []string{"startswith(deviceName,'DESKTOP')", "userId ne 'x'", "colour eq 'red'",
		"enrolledDateTime ge 2025-01-01T00:00:00Z", "operatingSystem eq"} {
		r := do(t, s, tok, http.MethodGet, mdPath+"?$filter="+url.PathEscape(f), nil)
		if r.Status != http.StatusBadRequest || r.errorCode() != "BadRequest" {
			t.Errorf("filter %q: %d %s, want 400 BadRequest", f, r.Status, r.Raw)
			continue
		}
		intuneMessage(t, r)
	}
}

func TestManagedDeviceGetAndUserList(t *testing.T) {
	t.Parallel()
	s := deviceSim(t, 1)
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover-readonly")
	var d *ManagedDevice
	var want []string
	locked(s, func() {
		d = src.managed[src.managedOrd[0]]
		for _, id := range src.managedOrd {
			if src.managed[id].UserID == d.UserID {
				want = append(want, id)
			}
		}
	})

	r := do(t, s, tok, http.MethodGet, mdPath+"/"+d.ID+"?$select=id,serialNumber", nil)
	if r.Status != http.StatusOK || r.Body["serialNumber"] != d.SerialNumber ||
		!strings.HasSuffix(r.Body["@odata.context"].(string), "deviceManagement/managedDevices/$entity") {
		t.Fatalf("get device: %d %s", r.Status, r.Raw)
	}

	r = do(t, s, tok, http.MethodGet, mdPath+"/00000000-0000-0000-0000-000000000001", nil)
	if r.Status != http.StatusNotFound || r.errorCode() != "ResourceNotFound" {
		t.Fatalf("unknown device: %d %s, want 404 ResourceNotFound", r.Status, r.Raw)
	}
	doc := intuneMessage(t, r)
	if !strings.Contains(doc.Message, "managedDevices%28%2700000000-0000-0000-0000-000000000001%27%29") {
		t.Errorf("Intune URL does not name the device: %s", doc.Message)
	}

	got := listAll(t, s, tok, "/users/"+d.UserID+"/managedDevices?$top=1")
	if !slices.Equal(ids(got), want) {
		t.Errorf("user's devices %v, want %v", ids(got), want)
	}
	bySerial := url.PathEscape("serialNumber eq '" + d.SerialNumber + "'")
	r = do(t, s, tok, http.MethodGet, "/users/"+d.UserID+"/managedDevices?$filter="+bySerial, nil)
	if v := r.Body["value"].([]any); r.Status != http.StatusOK || len(v) != 1 {
		t.Errorf("user's devices by serial: %d %s", r.Status, r.Raw)
	}
	r = do(t, s, tok, http.MethodGet, "/users/nobody@contoso.com/managedDevices", nil)
	if r.Status != http.StatusNotFound || r.errorCode() != "ResourceNotFound" {
		t.Errorf("unknown user's devices: %d %s", r.Status, r.Raw)
	}
}

// managedDeviceState reads a device's state through Graph: managementState and its actions.
func managedDeviceState(t *testing.T, s *Server, tok, id string) (int, string, []any) {
	t.Helper()
	r := do(t, s, tok, http.MethodGet, mdPath+"/"+id, nil)
	state, _ := r.Body["managementState"].(string)
	actions, _ := r.Body["deviceActionResults"].([]any)
	return r.Status, state, actions
}

func TestRetireLifecycle(t *testing.T) {
	t.Parallel()
	s := deviceSim(t, 1)
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	var d *ManagedDevice
	locked(s, func() { d = src.managed[src.managedOrd[0]] })
	path := mdPath + "/" + d.ID + "/retire"

	r := do(t, s, tok, http.MethodPost, path, nil)
	if r.Status != http.StatusNoContent || len(r.Raw) != 0 {
		t.Fatalf("retire: %d %s, want 204 without body", r.Status, r.Raw)
	}
	status, state, actions := managedDeviceState(t, s, tok, d.ID)
	want := map[string]any{"actionName": "retire", "actionState": "pending",
		"startDateTime": "2025-06-02T09:00:00Z", "lastUpdatedDateTime": "2025-06-02T09:00:00Z"}
	if status != 200 || state != "retirePending" || len(actions) != 1 || !mapsEqual(actions[0], want) {
		t.Fatalf("after retire: %d %s %v", status, state, actions)
	}
	var checkIn time.Time
	locked(s, func() { checkIn = d.CheckIn })
	if delay := checkIn.Sub(simStart); delay < 5*time.Minute || delay > 8*time.Hour {
		t.Fatalf("check-in after %v, want 5 minutes to 8 hours", delay)
	}

	// A second retire while pending is accepted and changes nothing.
	if r := do(t, s, tok, http.MethodPost, path, nil); r.Status != http.StatusNoContent {
		t.Fatalf("second retire: %d %s", r.Status, r.Raw)
	}
	_, _, actions = managedDeviceState(t, s, tok, d.ID)
	locked(s, func() {
		if len(actions) != 1 || !d.CheckIn.Equal(checkIn) {
			t.Errorf("second retire: %d actions, check-in %v; want 1 and %v", len(actions), d.CheckIn, checkIn)
		}
	})

	// Until the device checks in it stays listed as pending.
	s.Advance(checkIn.Sub(simStart) - time.Second)
	tok = token(t, s, "source", "cutover")
	if _, state, _ := managedDeviceState(t, s, tok, d.ID); state != "retirePending" {
		t.Fatalf("a second before check-in: %s, want retirePending", state)
	}

	s.Advance(time.Second)
	if status, _, _ := managedDeviceState(t, s, tok, d.ID); status != http.StatusNotFound {
		t.Fatalf("after check-in: GET %d, want 404", status)
	}
	if slices.Contains(ids(listAll(t, s, tok, mdPath)), d.ID) {
		t.Error("retired device still listed after check-in")
	}
	locked(s, func() {
		a := d.Actions[0]
		if a.State != "done" || !a.LastUpdated.Equal(checkIn) || d.ManagementState != "retireIssued" {
			t.Errorf("after check-in: action %+v, state %s", a, d.ManagementState)
		}
		if ed := src.devices[src.deviceIndex[strings.ToLower(d.AzureADDeviceID)]]; ed == nil || ed.IsManaged {
			t.Errorf("Entra device after retire: %+v, want present and unmanaged", ed)
		}
	})

	// The inspection API keeps the released record with its finished action.
	inspectURL := s.URL() + "/_sim/tenants/" + src.ID + "/releasedManagedDevices/" + d.ID
	resp, err := s.HTTPClient().Get(inspectURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rec map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil || resp.StatusCode != 200 {
		t.Fatalf("inspect released device: %d %v", resp.StatusCode, err)
	}
	if a := rec["deviceActionResults"].([]any)[0].(map[string]any); a["actionState"] != "done" {
		t.Errorf("inspected action %v, want done", a)
	}
}

// doRaw sends body as it is, with a JSON content type when there is a body; do would
// re-encode it.
func doRaw(t *testing.T, s *Server, tok, method, path, body string) graphResponse {
	t.Helper()
	req, err := http.NewRequest(method, s.GraphURL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := graphResponse{Status: resp.StatusCode, Header: resp.Header}
	out.Raw, _ = io.ReadAll(resp.Body)
	if len(out.Raw) > 0 {
		if err := json.Unmarshal(out.Raw, &out.Body); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, out.Raw, err)
		}
	}
	return out
}

func mapsEqual(a any, b map[string]any) bool {
	m, ok := a.(map[string]any)
	if !ok || len(m) != len(b) {
		return false
	}
	for k, v := range b {
		if m[k] != v {
			return false
		}
	}
	return true
}

func TestWipeParameters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		status   int
		code     string
		wantWipe *WipeOptions
	}{
		{"no body", "", 204, "", &WipeOptions{}},
		{"empty object", "{}", 204, "", &WipeOptions{}},
		{"every parameter", `{"keepEnrollmentData":true,"keepUserData":true,"macOsUnlockCode":"123456",` +
			`"persistEsimDataPlan":true}`, 204, "",
			&WipeOptions{KeepEnrollmentData: true, KeepUserData: true, MacOSUnlockCode: "123456",
				PersistEsimDataPlan: true}},
		{"nulls", `{"keepUserData":null,"macOsUnlockCode":null}`, 204, "", &WipeOptions{}},
		{"obliterationBehavior", `{"obliterationBehavior":"always"}`, 400, "BadRequest", nil},
		{"useProtectedWipe", `{"keepUserData":false,"useProtectedWipe":true}`, 400, "BadRequest", nil},
		{"wrong case", `{"KeepUserData":true}`, 400, "BadRequest", nil},
		{"wrong type", `{"keepUserData":"yes"}`, 400, "BadRequest", nil},
		{"not JSON", `{"keepUserData":`, 400, "BadRequest", nil},
	}
	s := deviceSim(t, 1)
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d *ManagedDevice
			locked(s, func() { d = src.managed[src.managedOrd[i]] })
			r := doRaw(t, s, tok, http.MethodPost, mdPath+"/"+d.ID+"/wipe", tc.body)
			if r.Status != tc.status || r.errorCode() != tc.code {
				t.Fatalf("wipe: %d %s, want %d %s", r.Status, r.Raw, tc.status, tc.code)
			}
			if tc.status == 400 && tc.name != "not JSON" {
				intuneMessage(t, r)
			}
			_, state, actions := managedDeviceState(t, s, tok, d.ID)
			locked(s, func() {
				if tc.wantWipe == nil {
					if state != "managed" || len(actions) != 0 || d.Wipe != nil {
						t.Errorf("refused wipe changed the device: %s %v %+v", state, actions, d.Wipe)
					}
					return
				}
				if state != "wipePending" || len(actions) != 1 || d.Wipe == nil || *d.Wipe != *tc.wantWipe {
					t.Errorf("after wipe: %s %v %+v, want wipePending with %+v", state, actions, d.Wipe, tc.wantWipe)
				}
			})
		})
	}
}

func TestWipeCheckIn(t *testing.T) {
	t.Parallel()
	s := deviceSim(t, 1)
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	var kept, reset, both *ManagedDevice
	locked(s, func() {
		kept, reset, both = src.managed[src.managedOrd[0]], src.managed[src.managedOrd[1]],
			src.managed[src.managedOrd[2]]
	})
	post := func(d *ManagedDevice, action string, body any) {
		t.Helper()
		r := do(t, s, tok, http.MethodPost, mdPath+"/"+d.ID+"/"+action, body)
		if r.Status != http.StatusNoContent {
			t.Fatalf("%s: %d %s", action, r.Status, r.Raw)
		}
	}
	post(kept, "wipe", map[string]any{"keepEnrollmentData": true})
	post(reset, "wipe", nil)
	post(reset, "wipe", map[string]any{"keepEnrollmentData": true}) // pending: ignored
	post(reset, "retire", nil)                                      // a wipe is pending: ignored
	post(both, "retire", nil)
	post(both, "wipe", map[string]any{"keepEnrollmentData": true}) // retire pending: wipe issued

	locked(s, func() {
		if reset.Wipe.KeepEnrollmentData || len(reset.Actions) != 1 {
			t.Errorf("repeated actions on a wiping device changed it: %+v %d actions",
				reset.Wipe, len(reset.Actions))
		}
		if len(both.Actions) != 2 || both.ManagementState != "wipePending" {
			t.Errorf("wipe after retire: %d actions, %s", len(both.Actions), both.ManagementState)
		}
	})

	s.Advance(8*time.Hour + time.Minute)
	tok = token(t, s, "source", "cutover")
	status, state, actions := managedDeviceState(t, s, tok, kept.ID)
	if status != 200 || state != "managed" || actions[0].(map[string]any)["actionState"] != "done" {
		t.Errorf("wipe keeping enrolment: %d %s %v, want still managed with the wipe done",
			status, state, actions)
	}
	for _, d := range []*ManagedDevice{reset, both} {
		if status, _, _ := managedDeviceState(t, s, tok, d.ID); status != http.StatusNotFound {
			t.Errorf("wiped device %s: GET %d, want 404", d.ID, status)
		}
	}
	locked(s, func() {
		rel := src.released
		if len(rel) != 2 || !slices.Contains(rel, reset) || !slices.Contains(rel, both) {
			t.Errorf("released %d devices, want the two reset ones", len(src.released))
		}
		for _, a := range both.Actions {
			if a.State != "done" {
				t.Errorf("action %s %s after check-in, want done", a.Name, a.State)
			}
		}
	})
}

func TestManagedDeviceDeleteTwice(t *testing.T) {
	t.Parallel()
	s := deviceSim(t, 1)
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover")
	var d *ManagedDevice
	locked(s, func() { d = src.managed[src.managedOrd[0]] })
	path := mdPath + "/" + d.ID

	// A pending retire does not resurrect or release a deleted record.
	do(t, s, tok, http.MethodPost, path+"/retire", nil)
	for i, want := range []int{http.StatusNoContent, http.StatusNotFound} {
		r := do(t, s, tok, http.MethodDelete, path, nil)
		if r.Status != want {
			t.Fatalf("DELETE %d: %d %s, want %d", i+1, r.Status, r.Raw, want)
		}
		if want == http.StatusNotFound && r.errorCode() != "ResourceNotFound" {
			t.Errorf("second DELETE code %s", r.errorCode())
		}
	}
	s.Advance(9 * time.Hour)
	locked(s, func() {
		if src.managed[d.ID] != nil || len(src.released) != 0 {
			t.Error("deleted record came back or was released at check-in")
		}
		if ed := src.devices[src.deviceIndex[strings.ToLower(d.AzureADDeviceID)]]; ed == nil || !ed.IsManaged {
			t.Error("deleting the Intune record touched the Entra device object")
		}
	})
}

func TestEntraDevices(t *testing.T) {
	t.Parallel()
	s := deviceSim(t, 1)
	src := tenant(t, s, "source")
	read := token(t, s, "source", "cutover-readonly")
	tok := token(t, s, "source", "cutover")
	var d0, d1 *Device
	locked(s, func() { d0, d1 = src.devices[src.deviceOrd[0]], src.devices[src.deviceOrd[1]] })

	got := listAll(t, s, read, "/devices?$top=4&$select=id,deviceId,displayName,trustType")
	if !slices.Equal(ids(got), src.deviceOrd) || len(got[0]) != 4 || got[0]["deviceId"] != d0.DeviceID {
		t.Fatalf("paged device listing: %d items, first %v", len(got), got[0])
	}
	filters := []string{"deviceId eq '" + d0.DeviceID + "'", "displayName eq '" + d0.DisplayName + "'"}
	for _, f := range filters {
		items := listAll(t, s, read, "/devices?$filter="+url.PathEscape(f))
		if len(items) == 0 || !slices.Contains(ids(items), d0.ID) {
			t.Errorf("filter %q: %v", f, ids(items))
		}
		for _, it := range items {
			if !strings.EqualFold(it["displayName"].(string), d0.DisplayName) {
				t.Errorf("filter %q matched %v", f, it["displayName"])
			}
		}
	}

	for _, p := range []string{"/devices/" + d0.ID, "/devices(deviceId='" + d0.DeviceID + "')"} {
		r := do(t, s, read, http.MethodGet, p, nil)
		if r.Status != 200 || r.Body["id"] != d0.ID || r.Body["isManaged"] != true {
			t.Errorf("GET %s: %d %s", p, r.Status, r.Raw)
		}
	}

	tests := []struct {
		name string
		path string
		gone *Device
	}{
		{"by object id", "/devices/" + d0.ID, d0},
		{"by deviceId", "/devices(deviceId='" + d1.DeviceID + "')", d1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, want := range []int{http.StatusNoContent, http.StatusNotFound} {
				r := do(t, s, tok, http.MethodDelete, tc.path, nil)
				if r.Status != want {
					t.Fatalf("DELETE %d: %d %s, want %d", i+1, r.Status, r.Raw, want)
				}
				if want == http.StatusNotFound && r.errorCode() != "Request_ResourceNotFound" {
					t.Errorf("second DELETE: code %s", r.errorCode())
				}
			}
			locked(s, func() {
				if src.devices[tc.gone.ID] != nil || src.deviceIndex[strings.ToLower(tc.gone.DeviceID)] != "" {
					t.Error("device still in the tenant")
				}
			})
			if r := do(t, s, read, http.MethodGet, "/devices/"+tc.gone.ID, nil); r.Status != 404 {
				t.Errorf("GET after delete: %d", r.Status)
			}
		})
	}
}

func TestDeviceWritesNeedWritePermissions(t *testing.T) {
	t.Parallel()
	s := deviceSim(t, 1)
	src := tenant(t, s, "source")
	tok := token(t, s, "source", "cutover-readonly")
	var md *ManagedDevice
	var ed *Device
	locked(s, func() { md, ed = src.managed[src.managedOrd[0]], src.devices[src.deviceOrd[0]] })

	tests := []struct{ method, path string }{
		{http.MethodPost, mdPath + "/" + md.ID + "/retire"},
		{http.MethodPost, mdPath + "/" + md.ID + "/wipe"},
		{http.MethodDelete, mdPath + "/" + md.ID},
		{http.MethodDelete, "/devices/" + ed.ID},
		{http.MethodDelete, "/devices(deviceId='" + ed.DeviceID + "')"},
	}
	for _, tc := range tests {
		r := do(t, s, tok, tc.method, tc.path, nil)
		if r.Status != http.StatusForbidden || r.errorCode() != "Authorization_RequestDenied" {
			t.Errorf("%s %s: %d %s, want 403", tc.method, tc.path, r.Status, r.Raw)
		}
	}
	locked(s, func() {
		if md.ManagementState != "managed" || src.managed[md.ID] == nil || src.devices[ed.ID] == nil {
			t.Error("a refused write changed state")
		}
	})
}

func TestIntuneNeedsLicence(t *testing.T) {
	t.Parallel()
	s := deviceSim(t, 1)
	tgt := tenant(t, s, "target")
	tok := token(t, s, "target", "cutover")
	var md *ManagedDevice
	locked(s, func() {
		tgt.intune = false
		md = tgt.managed[tgt.managedOrd[0]]
	})

	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, mdPath},
		{http.MethodGet, mdPath + "/" + md.ID},
		{http.MethodGet, "/users/" + md.UserID + "/managedDevices"},
		{http.MethodPost, mdPath + "/" + md.ID + "/retire"},
		{http.MethodPost, mdPath + "/" + md.ID + "/wipe"},
		{http.MethodDelete, mdPath + "/" + md.ID},
	} {
		r := do(t, s, tok, tc.method, tc.path, nil)
		e, _ := r.Body["error"].(map[string]any)
		if r.Status != http.StatusBadRequest || r.errorCode() != "BadRequest" ||
			e["message"] != "Request not applicable to target tenant." {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, r.Status, r.Raw)
		}
	}
	if r := do(t, s, tok, http.MethodGet, "/devices?$top=1", nil); r.Status != http.StatusOK {
		t.Errorf("Entra devices need no Intune licence: %d", r.Status)
	}
	locked(s, func() {
		if md.ManagementState != "managed" || tgt.managed[md.ID] == nil {
			t.Error("an unlicensed call changed state")
		}
	})
}

func TestCheckInIsSeeded(t *testing.T) {
	t.Parallel()
	checkIns := func(seed uint64) []time.Time {
		s := deviceSim(t, seed)
		src := tenant(t, s, "source")
		tok := token(t, s, "source", "cutover")
		var out []time.Time
		for i := range 5 {
			var d *ManagedDevice
			locked(s, func() { d = src.managed[src.managedOrd[i]] })
			do(t, s, tok, http.MethodPost, mdPath+"/"+d.ID+"/retire", nil)
			locked(s, func() { out = append(out, d.CheckIn) })
		}
		return out
	}
	a, b := checkIns(7), checkIns(7)
	if !slices.EqualFunc(a, b, time.Time.Equal) {
		t.Errorf("same seed, different check-ins:\n%v\n%v", a, b)
	}
	if slices.EqualFunc(a, checkIns(8), time.Time.Equal) {
		t.Error("another seed gave the same five check-ins")
	}
}
