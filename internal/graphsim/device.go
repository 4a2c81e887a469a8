package graphsim

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
		"id":                     d.ID,
		"userId":                 d.UserID,
		"userPrincipalName":      d.UPN,
		"userDisplayName":        d.UserDisplayName,
		"deviceName":             d.DeviceName,
		"operatingSystem":        d.OS,
		"osVersion":              d.OSVersion,
		"managedDeviceOwnerType": d.OwnerType,
		"azureADDeviceId":        d.AzureADDeviceID,
		"azureADRegistered":      true,
		"serialNumber":           d.SerialNumber,
		"manufacturer":           d.Manufacturer,
		"model":                  d.Model,
		"imei":                   imei,
		"emailAddress":           email,
		"enrolledDateTime":       timeString(d.Enrolled),
		"lastSyncDateTime":       timeString(d.LastSync),
		"complianceState":        d.Compliance,
		"managementAgent":        "mdm",
		"deviceEnrollmentType":   d.EnrollmentType,
		"managementState":        d.ManagementState,
		"deviceActionResults":    actions,
	}
}

// props returns every property of the Entra device object that the simulator serves.
func (d *Device) props() map[string]any {
	return map[string]any{
		"id":                            d.ID,
		"deviceId":                      d.DeviceID,
		"displayName":                   d.DisplayName,
		"operatingSystem":               d.OS,
		"operatingSystemVersion":        d.OSVersion,
		"trustType":                     d.TrustType,
		"accountEnabled":                d.AccountEnabled,
		"isManaged":                     d.IsManaged,
		"isCompliant":                   d.IsCompliant,
		"registrationDateTime":          timeString(d.Registered),
		"approximateLastSignInDateTime": timeString(d.LastSignIn),
	}
}

func (s *Server) deviceRoutes() {}
