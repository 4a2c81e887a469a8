package graph

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ManagedDevice is an Intune managed device (GRAPH.md 4). managementState and
// deviceActionResults show whether a retire or wipe has landed.
type ManagedDevice struct {
	ID                     string               `json:"id"`
	DeviceName             string               `json:"deviceName"`
	UserID                 string               `json:"userId"`
	UserPrincipalName      string               `json:"userPrincipalName"`
	AzureADDeviceID        string               `json:"azureADDeviceId"`
	OperatingSystem        string               `json:"operatingSystem"`
	OSVersion              string               `json:"osVersion"`
	ManagedDeviceOwnerType string               `json:"managedDeviceOwnerType"`
	ManagementState        string               `json:"managementState"`
	ComplianceState        string               `json:"complianceState"`
	SerialNumber           string               `json:"serialNumber"`
	LastSyncDateTime       *time.Time           `json:"lastSyncDateTime"`
	EnrolledDateTime       *time.Time           `json:"enrolledDateTime"`
	DeviceActionResults    []DeviceActionResult `json:"deviceActionResults"`
}

// DeviceActionResult is one remote action on a managed device. ActionState is none, pending,
// canceled, active, done, failed or notSupported.
type DeviceActionResult struct {
	ActionName          string     `json:"actionName"`
	ActionState         string     `json:"actionState"`
	StartDateTime       *time.Time `json:"startDateTime"`
	LastUpdatedDateTime *time.Time `json:"lastUpdatedDateTime"`
}

// Action returns the result of the named action (compared case-insensitively, because the
// exact strings are not documented), or nil.
func (d *ManagedDevice) Action(name string) *DeviceActionResult {
	for i := range d.DeviceActionResults {
		if strings.EqualFold(d.DeviceActionResults[i].ActionName, name) {
			return &d.DeviceActionResults[i]
		}
	}
	return nil
}

// ManagedDeviceSelect is the default $select of managed device listings.
var ManagedDeviceSelect = []string{"id", "deviceName", "userId", "userPrincipalName",
	"azureADDeviceId", "operatingSystem", "osVersion", "managedDeviceOwnerType",
	"managementState", "lastSyncDateTime", "serialNumber"}

// ListManagedDevicesRequest lists Intune managed devices. The maximum page size is not
// documented, so no $top is sent unless opts asks for one.
func ListManagedDevicesRequest(opts ListOptions) Request {
	return opts.request("/deviceManagement/managedDevices", ManagedDeviceSelect, 0)
}

// ListManagedDevices streams every Intune managed device.
func (c *Client) ListManagedDevices(ctx context.Context, opts ListOptions) iter.Seq2[ManagedDevice, error] {
	return Items[ManagedDevice](ctx, c, ListManagedDevicesRequest(opts))
}

// ListUserManagedDevices streams one user's managed devices.
func (c *Client) ListUserManagedDevices(ctx context.Context, userID string,
	opts ListOptions) iter.Seq2[ManagedDevice, error] {
	return Items[ManagedDevice](ctx, c,
		opts.request("/users/"+url.PathEscape(userID)+"/managedDevices", ManagedDeviceSelect, 0))
}

// GetManagedDevice reads one managed device.
func (c *Client) GetManagedDevice(ctx context.Context, id string,
	selectProps ...string) (*ManagedDevice, error) {
	if len(selectProps) == 0 {
		selectProps = append(append([]string{}, ManagedDeviceSelect...), "deviceActionResults")
	}
	var d ManagedDevice
	path := "/deviceManagement/managedDevices/" + url.PathEscape(id)
	req := ListOptions{Select: selectProps}.request(path, nil, 0)
	if err := c.doDecode(ctx, req, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// RetireDeviceRequest removes company data and management from a device. Not marked
// idempotent: what a second retire does on a pending one is undocumented, so read state
// before resending.
func RetireDeviceRequest(id string) Request {
	return Request{Method: http.MethodPost,
		Path: "/deviceManagement/managedDevices/" + url.PathEscape(id) + "/retire"}
}

// RetireDevice retires a managed device (204).
func (c *Client) RetireDevice(ctx context.Context, id string) (*Response, error) {
	return c.Do(ctx, RetireDeviceRequest(id))
}

// WipeOptions are the parameters of the wipe action; all are optional.
type WipeOptions struct {
	KeepEnrollmentData  *bool  `json:"keepEnrollmentData,omitempty"`
	KeepUserData        *bool  `json:"keepUserData,omitempty"`
	MacOsUnlockCode     string `json:"macOsUnlockCode,omitempty"`
	PersistEsimDataPlan *bool  `json:"persistEsimDataPlan,omitempty"`
}

// WipeDeviceRequest factory-resets a device. Destructive and never resent automatically
// after an ambiguous failure.
func WipeDeviceRequest(id string, opts WipeOptions) Request {
	return Request{Method: http.MethodPost, Body: opts,
		Path: "/deviceManagement/managedDevices/" + url.PathEscape(id) + "/wipe"}
}

// WipeDevice wipes a managed device (204).
func (c *Client) WipeDevice(ctx context.Context, id string, opts WipeOptions) (*Response, error) {
	return c.Do(ctx, WipeDeviceRequest(id, opts))
}

// DeleteManagedDeviceRequest deletes the Intune record of a device. A 404 means it is gone
// already: treat it as done.
func DeleteManagedDeviceRequest(id string) Request {
	return Request{Method: http.MethodDelete, Path: "/deviceManagement/managedDevices/" + url.PathEscape(id)}
}

// DeleteManagedDevice deletes the Intune record of a device (204).
func (c *Client) DeleteManagedDevice(ctx context.Context, id string) (*Response, error) {
	return c.Do(ctx, DeleteManagedDeviceRequest(id))
}

// Device is an Entra device object (GRAPH.md 5). ID is the directory object id; DeviceID is
// the registration id that managedDevice.azureADDeviceId points at.
type Device struct {
	ID              string `json:"id"`
	DeviceID        string `json:"deviceId"`
	DisplayName     string `json:"displayName"`
	OperatingSystem string `json:"operatingSystem"`
	TrustType       string `json:"trustType"`
	AccountEnabled  *bool  `json:"accountEnabled"`
}

// DeviceSelect is the default $select of Entra device listings.
var DeviceSelect = []string{"id", "deviceId", "displayName", "operatingSystem", "trustType",
	"accountEnabled"}

// ListDevicesRequest lists Entra device objects, 999 per page.
func ListDevicesRequest(opts ListOptions) Request {
	return opts.request("/devices", DeviceSelect, 999)
}

// ListDevices streams every Entra device object.
func (c *Client) ListDevices(ctx context.Context, opts ListOptions) iter.Seq2[Device, error] {
	return Items[Device](ctx, c, ListDevicesRequest(opts))
}

// DeleteDeviceRequest deletes an Entra device by object id.
func DeleteDeviceRequest(id string) Request {
	return Request{Method: http.MethodDelete, Path: "/devices/" + url.PathEscape(id)}
}

// DeleteDeviceByDeviceIDRequest deletes an Entra device by its deviceId alternate key, the
// value Intune reports as azureADDeviceId.
func DeleteDeviceByDeviceIDRequest(deviceID string) Request {
	return Request{Method: http.MethodDelete,
		Path: "/devices(deviceId='" + url.PathEscape(strings.ReplaceAll(deviceID, "'", "''")) + "')"}
}

// DeleteDevice deletes an Entra device by object id (204; 404 means gone already).
func (c *Client) DeleteDevice(ctx context.Context, id string) (*Response, error) {
	return c.Do(ctx, DeleteDeviceRequest(id))
}

// DeleteDeviceByDeviceID deletes an Entra device by deviceId.
func (c *Client) DeleteDeviceByDeviceID(ctx context.Context, deviceID string) (*Response, error) {
	return c.Do(ctx, DeleteDeviceByDeviceIDRequest(deviceID))
}
