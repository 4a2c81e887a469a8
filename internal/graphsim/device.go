package graphsim

import (
	"net/http"
	"strings"
)

// intuneMDMAppID is the application id Entra records as the MDM of devices Intune manages.
const intuneMDMAppID = "0000000a-0000-0000-c000-000000000000"

// managedDeviceSelectable lists every structural property of managedDevice in the v1.0
// metadata: $select accepts any of them, and those the simulator does not model come back
// null, as unset properties do in Intune.
var managedDeviceSelectable = stringSet("id", "activationLockBypassCode",
	"androidSecurityPatchLevel", "azureADDeviceId", "azureADRegistered",
	"complianceGracePeriodExpirationDateTime", "complianceState",
	"configurationManagerClientEnabledFeatures", "deviceActionResults",
	"deviceCategoryDisplayName", "deviceEnrollmentType", "deviceHealthAttestationState",
	"deviceName", "deviceRegistrationState", "easActivated", "easActivationDateTime", "easDeviceId",
	"emailAddress", "enrolledDateTime", "enrollmentProfileName", "ethernetMacAddress",
	"exchangeAccessState", "exchangeAccessStateReason", "exchangeLastSuccessfulSyncDateTime",
	"freeStorageSpaceInBytes", "iccid", "imei", "isEncrypted", "isSupervised", "jailBroken",
	"lastSyncDateTime", "managedDeviceName", "managedDeviceOwnerType", "managementAgent",
	"managementCertificateExpirationDate", "managementState", "manufacturer", "meid", "model",
	"notes", "operatingSystem", "osVersion", "partnerReportedThreatState", "phoneNumber",
	"physicalMemoryInBytes", "remoteAssistanceSessionErrorDetails", "remoteAssistanceSessionUrl",
	"requireUserEnrollmentApproval", "serialNumber", "subscriberCarrier",
	"totalStorageSpaceInBytes", "udid", "userDisplayName", "userId", "userPrincipalName",
	"wiFiMacAddress")

// deviceSelectable lists every structural property of device (and of directoryObject, its
// base type) in the v1.0 metadata.
var deviceSelectable = stringSet("id", "deletedDateTime", "accountEnabled",
	"alternativeSecurityIds", "approximateLastSignInDateTime", "complianceExpirationDateTime",
	"deviceCategory", "deviceId", "deviceMetadata", "deviceOwnership", "deviceVersion",
	"displayName", "enrollmentProfileName", "enrollmentType", "isCompliant", "isManaged",
	"isManagementRestricted", "isRooted", "managementType", "manufacturer", "mdmAppId", "model",
	"onPremisesLastSyncDateTime", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
	"operatingSystem", "operatingSystemVersion", "physicalIds", "profileType",
	"registrationDateTime", "systemLabels", "trustType")

// props returns every property of the managed device that the simulator serves.
func (d *ManagedDevice) props() map[string]any {
	actions := make([]any, 0, len(d.Actions))
	for _, a := range d.Actions {
		actions = append(actions, map[string]any{
			"actionName":          a.Name,
			"actionState":         a.State,
			"startDateTime":       timeString(a.Start),
			"lastUpdatedDateTime": timeString(a.LastUpdated),
		})
	}
	var imei, email any
	if d.IMEI != "" {
		imei = d.IMEI
	}
	if d.EmailAddress != "" {
		email = d.EmailAddress
	}
	return map[string]any{
		"@odata.type":               "#microsoft.graph.managedDevice",
		"id":                        d.ID,
		"userId":                    d.UserID,
		"userPrincipalName":         d.UPN,
		"userDisplayName":           d.UserDisplayName,
		"deviceName":                d.DeviceName,
		"managedDeviceName":         d.managedDeviceName(),
		"operatingSystem":           d.OS,
		"osVersion":                 d.OSVersion,
		"managedDeviceOwnerType":    d.OwnerType,
		"azureADDeviceId":           d.AzureADDeviceID,
		"azureADRegistered":         true,
		"deviceRegistrationState":   "registered",
		"serialNumber":              d.SerialNumber,
		"manufacturer":              d.Manufacturer,
		"model":                     d.Model,
		"imei":                      imei,
		"emailAddress":              email,
		"enrolledDateTime":          timeString(d.Enrolled),
		"lastSyncDateTime":          timeString(d.LastSync),
		"complianceState":           d.Compliance,
		"jailBroken":                "False",
		"isEncrypted":               true,
		"isSupervised":              d.OS == "iOS" && d.OwnerType == "company",
		"managementAgent":           "mdm",
		"deviceEnrollmentType":      d.EnrollmentType,
		"managementState":           d.ManagementState,
		"deviceCategoryDisplayName": "Unknown Category",
		"exchangeAccessState":       "none",
		"exchangeAccessStateReason": "none",
		"deviceActionResults":       actions,
	}
}

// managedDeviceName is the name Intune generates at enrolment: the user's alias, the
// platform and the enrolment time.
func (d *ManagedDevice) managedDeviceName() string {
	alias, _, _ := strings.Cut(d.UPN, "@")
	return alias + "_" + d.OS + "_" + d.Enrolled.UTC().Format("1/2/2006_3:04 PM")
}

// inspect is the managed device's full state for the inspection API: its Graph properties
// plus what Graph never shows, the options of its last wipe and when it next checks in.
func (d *ManagedDevice) inspect() map[string]any {
	m := d.props()
	m["nextCheckInDateTime"] = timeString(d.CheckIn)
	if d.Wipe != nil {
		m["wipeOptions"] = *d.Wipe
	}
	return m
}

// props returns every property of the Entra device object that the simulator serves.
func (d *Device) props() map[string]any {
	var mgmt, mdm any
	if d.IsManaged {
		mgmt, mdm = "MDM", intuneMDMAppID
	}
	return map[string]any{
		"id":                            d.ID,
		"deletedDateTime":               nil,
		"deviceId":                      d.DeviceID,
		"displayName":                   d.DisplayName,
		"operatingSystem":               d.OS,
		"operatingSystemVersion":        d.OSVersion,
		"trustType":                     d.TrustType,
		"profileType":                   "RegisteredDevice",
		"accountEnabled":                d.AccountEnabled,
		"isManaged":                     d.IsManaged,
		"isCompliant":                   d.IsCompliant,
		"isRooted":                      false,
		"managementType":                mgmt,
		"mdmAppId":                      mdm,
		"registrationDateTime":          timeString(d.Registered),
		"approximateLastSignInDateTime": timeString(d.LastSignIn),
		"complianceExpirationDateTime":  nil,
		"onPremisesSyncEnabled":         nil,
		"onPremisesLastSyncDateTime":    nil,
		"physicalIds":                   []string{},
		"systemLabels":                  []string{},
	}
}

// deviceRoutes registers the Intune managed-device endpoints (intune.go) and the Entra
// device-object endpoints.
func (s *Server) deviceRoutes() {
	s.intuneRoutes()
	s.handle("devices.list", http.MethodGet, "devices", permDeviceRead, s.listDevices)
	s.handle("devices.get", http.MethodGet, "devices/{id}", permDeviceRead, s.getDevice)
	s.handle("devices.get", http.MethodGet, "devices(deviceId='{deviceId}')", permDeviceRead,
		s.getDevice)
	s.handle("devices.delete", http.MethodDelete, "devices/{id}", permDeviceWrite, s.deleteDevice)
	s.handle("devices.delete", http.MethodDelete, "devices(deviceId='{deviceId}')",
		permDeviceWrite, s.deleteDevice)
}

func (s *Server) deviceSpec(c *call) listSpec {
	t := c.tenant
	return listSpec{
		context: "devices", typeName: "Microsoft.DirectoryServices.Device",
		total: len(t.deviceOrd), known: deviceSelectable,
		item: func(i int) map[string]any {
			if d := t.devices[t.deviceOrd[i]]; d != nil {
				return d.props()
			}
			return nil
		},
		filterable: true, countable: true,
	}
}

func (s *Server) listDevices(c *call) { c.list(s.deviceSpec(c)) }

// findDevice resolves the device addressed by its object id ({id}) or by its alternate key,
// the deviceId set at registration ({deviceId}), or answers 404.
func (c *call) findDevice() *Device {
	t := c.tenant
	key := c.param("id")
	id := key
	if key == "" {
		key = c.param("deviceId")
		id = t.deviceIndex[strings.ToLower(key)]
	}
	if d := t.devices[id]; d != nil {
		return d
	}
	c.fail(http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+key+
		"' does not exist or one of its queried reference-property objects are not present.")
	return nil
}

func (s *Server) getDevice(c *call) {
	if d := c.findDevice(); d != nil {
		c.getOne(s.deviceSpec(c), d.props())
	}
}

// deleteDevice removes the Entra device object. Deleted devices are not kept for restore
// (GRAPH.md 5 leaves restorability open), so a second DELETE finds nothing: 404.
func (s *Server) deleteDevice(c *call) {
	if d := c.findDevice(); d != nil {
		c.tenant.removeDevice(d.ID)
		c.noContent(http.StatusNoContent)
	}
}

// markUnmanaged records on the Entra device object that Intune no longer manages it.
func (t *Tenant) markUnmanaged(deviceID string) {
	if d := t.devices[t.deviceIndex[strings.ToLower(deviceID)]]; d != nil {
		d.IsManaged = false
	}
}
