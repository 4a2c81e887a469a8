package inventory

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/cutoverhq/cutover/internal/graph"
	"github.com/cutoverhq/cutover/internal/store"
)

// What each listing selects: exactly the columns the store keeps, so pages stay small and
// identity listings cost 1 RU each (GRAPH.md 12.2: $select takes 1 RU off).
//
// signInActivity is deliberately absent: selecting it caps pages at 500 and puts every
// request under a limit of 10 per minute (GRAPH.md 10.3), which would make a 100,000-user
// sync take 20 minutes. Sign-in times are read by the commands that track stragglers.
var (
	userSelect = []string{"id", "userPrincipalName", "displayName", "mail", "mailNickname",
		"employeeId", "accountEnabled", "onPremisesSyncEnabled", "userType",
		"signInSessionsValidFromDateTime", "department", "jobTitle"}
	managedDeviceSelect = []string{"id", "userId", "userPrincipalName", "deviceName",
		"operatingSystem", "osVersion", "managedDeviceOwnerType", "azureADDeviceId",
		"serialNumber", "deviceEnrollmentType", "managementState", "complianceState",
		"enrolledDateTime", "lastSyncDateTime"}
	entraDeviceSelect = []string{"id", "deviceId", "displayName", "operatingSystem",
		"operatingSystemVersion", "trustType", "accountEnabled", "isManaged", "isCompliant",
		"registrationDateTime", "approximateLastSignInDateTime"}
	registrationSelect = []string{"id", "userPrincipalName", "isAdmin", "isMfaRegistered",
		"isMfaCapable", "isPasswordlessCapable", "methodsRegistered",
		"userPreferredMethodForSecondaryAuthentication", "lastUpdatedDateTime"}
	domainSelect = []string{"id", "isVerified", "isDefault", "isInitial", "authenticationType",
		"supportedServices"}
)

// listRequest is the first request of a listing: path with $select and, when top > 0, $top.
func listRequest(path string, sel []string, top int) graph.Request {
	q := url.Values{"$select": {strings.Join(sel, ",")}}
	if top > 0 {
		q.Set("$top", itoa(top))
	}
	return graph.Request{Method: http.MethodGet, Path: path, Query: q}
}

// userItem is a user as /users and /users/delta return it. Delta items of removed users
// carry only id and @removed.
type userItem struct {
	ID                              string `json:"id"`
	UserPrincipalName               string `json:"userPrincipalName"`
	DisplayName                     string `json:"displayName"`
	Mail                            string `json:"mail"`
	MailNickname                    string `json:"mailNickname"`
	EmployeeID                      string `json:"employeeId"`
	AccountEnabled                  *bool  `json:"accountEnabled"`
	OnPremisesSyncEnabled           *bool  `json:"onPremisesSyncEnabled"`
	UserType                        string `json:"userType"`
	SignInSessionsValidFromDateTime string `json:"signInSessionsValidFromDateTime"`
	Department                      string `json:"department"`
	JobTitle                        string `json:"jobTitle"`
	Removed                         *struct {
		Reason string `json:"reason"`
	} `json:"@removed"`
}

func (u userItem) row() store.User {
	return store.User{ID: u.ID, UPN: u.UserPrincipalName, DisplayName: u.DisplayName,
		Mail: u.Mail, MailNickname: u.MailNickname, EmployeeID: u.EmployeeID,
		AccountEnabled: u.AccountEnabled,
		OnPremSync:     u.OnPremisesSyncEnabled != nil && *u.OnPremisesSyncEnabled,
		UserType:       u.UserType, SessionsValidFrom: u.SignInSessionsValidFromDateTime,
		Department: u.Department, JobTitle: u.JobTitle}
}

type managedDeviceItem struct {
	ID                     string `json:"id"`
	UserID                 string `json:"userId"`
	UserPrincipalName      string `json:"userPrincipalName"`
	DeviceName             string `json:"deviceName"`
	OperatingSystem        string `json:"operatingSystem"`
	OSVersion              string `json:"osVersion"`
	ManagedDeviceOwnerType string `json:"managedDeviceOwnerType"`
	AzureADDeviceID        string `json:"azureADDeviceId"`
	SerialNumber           string `json:"serialNumber"`
	DeviceEnrollmentType   string `json:"deviceEnrollmentType"`
	ManagementState        string `json:"managementState"`
	ComplianceState        string `json:"complianceState"`
	EnrolledDateTime       string `json:"enrolledDateTime"`
	LastSyncDateTime       string `json:"lastSyncDateTime"`
}

func (d managedDeviceItem) row() store.ManagedDevice {
	return store.ManagedDevice{ID: d.ID, UserID: d.UserID, UPN: d.UserPrincipalName,
		DeviceName: d.DeviceName, OperatingSystem: d.OperatingSystem, OSVersion: d.OSVersion,
		OwnerType: d.ManagedDeviceOwnerType, AzureADDeviceID: d.AzureADDeviceID,
		SerialNumber: d.SerialNumber, EnrollmentType: d.DeviceEnrollmentType,
		ManagementState: d.ManagementState, ComplianceState: d.ComplianceState,
		EnrolledAt: d.EnrolledDateTime, LastSyncAt: d.LastSyncDateTime}
}

type entraDeviceItem struct {
	ID                            string `json:"id"`
	DeviceID                      string `json:"deviceId"`
	DisplayName                   string `json:"displayName"`
	OperatingSystem               string `json:"operatingSystem"`
	OperatingSystemVersion        string `json:"operatingSystemVersion"`
	TrustType                     string `json:"trustType"`
	AccountEnabled                *bool  `json:"accountEnabled"`
	IsManaged                     *bool  `json:"isManaged"`
	IsCompliant                   *bool  `json:"isCompliant"`
	RegistrationDateTime          string `json:"registrationDateTime"`
	ApproximateLastSignInDateTime string `json:"approximateLastSignInDateTime"`
}

func (d entraDeviceItem) row() store.EntraDevice {
	return store.EntraDevice{ID: d.ID, DeviceID: d.DeviceID, DisplayName: d.DisplayName,
		OperatingSystem: d.OperatingSystem, OSVersion: d.OperatingSystemVersion,
		TrustType: d.TrustType, AccountEnabled: d.AccountEnabled, IsManaged: d.IsManaged,
		IsCompliant: d.IsCompliant, RegisteredAt: d.RegistrationDateTime,
		LastSignIn: d.ApproximateLastSignInDateTime}
}

type registrationItem struct {
	ID                                            string   `json:"id"`
	UserPrincipalName                             string   `json:"userPrincipalName"`
	IsAdmin                                       bool     `json:"isAdmin"`
	IsMfaRegistered                               bool     `json:"isMfaRegistered"`
	IsMfaCapable                                  bool     `json:"isMfaCapable"`
	IsPasswordlessCapable                         bool     `json:"isPasswordlessCapable"`
	MethodsRegistered                             []string `json:"methodsRegistered"`
	UserPreferredMethodForSecondaryAuthentication string   `json:"userPreferredMethodForSecondaryAuthentication"`
	LastUpdatedDateTime                           string   `json:"lastUpdatedDateTime"`
}

func (r registrationItem) row() store.Registration {
	return store.Registration{UserID: r.ID, UPN: r.UserPrincipalName, IsAdmin: r.IsAdmin,
		IsMfaRegistered: r.IsMfaRegistered, IsMfaCapable: r.IsMfaCapable,
		IsPasswordlessCapable: r.IsPasswordlessCapable, MethodsRegistered: r.MethodsRegistered,
		PreferredMethod: r.UserPreferredMethodForSecondaryAuthentication,
		LastUpdated:     r.LastUpdatedDateTime}
}

type domainItem struct {
	ID                 string   `json:"id"`
	IsVerified         bool     `json:"isVerified"`
	IsDefault          bool     `json:"isDefault"`
	IsInitial          bool     `json:"isInitial"`
	AuthenticationType string   `json:"authenticationType"`
	SupportedServices  []string `json:"supportedServices"`
}

func (d domainItem) row() store.Domain {
	return store.Domain{Name: d.ID, IsVerified: d.IsVerified, IsDefault: d.IsDefault,
		IsInitial: d.IsInitial, AuthenticationType: d.AuthenticationType,
		SupportedServices: d.SupportedServices}
}
