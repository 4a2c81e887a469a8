// Package check is the preflight behind `cutover check`: for each tenant and app registration
// it signs in, reads the application permissions the token grants, probes the licences the
// steps depend on, and reports, for every enabled step, what it needs, whether that is
// granted, and why it is needed.
//
// The requirements are GRAPH.md section 13 ("Permissions at a glance"), narrowed to the steps
// the configuration switches on.
package check

import (
	"strings"

	"github.com/cutoverhq/cutover/internal/config"
)

// Step names, as the runbook and the documentation use them.
const (
	StepSync                = "sync"
	StepProvision           = "provision"
	StepIssueTAP            = "issue-tap"
	StepNotify              = "notify"
	StepRevoke              = "revoke"
	StepResetPassword       = "reset-password"
	StepReleaseDevices      = "release-devices"
	StepRemoveEntraDevices  = "remove-entra-devices"
	StepDeregisterAutopilot = "deregister-autopilot"
	StepReleaseDomain       = "release-domain"
	StepAdoptDomain         = "adopt-domain"
	StepSwitchUPN           = "switch-upn"
	StepBlockSource         = "block-source"
	StepRemoveSourceMFA     = "remove-source-mfa"
	StepTrack               = "track"
)

// Licences a step may depend on.
const (
	LicenceIntune  = "Intune"
	LicencePremium = "Entra ID P1/P2"
)

// Permission is one application permission a step needs. AnyOf lists the permissions that
// satisfy it, least privileged first; Graph accepts the higher ones too.
type Permission struct {
	AnyOf []string
	Why   string
}

// Name is the least privileged permission, the one to ask an administrator for.
func (p Permission) Name() string { return p.AnyOf[0] }

// Role is a directory role a step needs for some targets. App-only tokens do not show the
// service principal's roles, so check reports these without verifying them.
type Role struct {
	Name string
	Why  string
}

// Need is what one step needs in one tenant.
type Need struct {
	Step        string
	Tenant      string // config.RoleSource or config.RoleTarget
	Permissions []Permission
	Roles       []Role
	Licences    []string
}

// Permission sets, mirroring what Graph accepts for each call (GRAPH.md 3 to 10).
var (
	userRead     = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	userCreate   = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
	userUpdate   = []string{"User.ReadUpdate.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
	userEnable   = []string{"User.EnableDisableAccount.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
	userRevoke   = []string{"User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
	userPassword = []string{"User-PasswordProfile.ReadWrite.All", "Directory.ReadWrite.All"}
	intuneRead   = []string{"DeviceManagementManagedDevices.Read.All", "DeviceManagementManagedDevices.ReadWrite.All"}
	intuneWrite  = []string{"DeviceManagementManagedDevices.ReadWrite.All"}
	intunePriv   = []string{"DeviceManagementManagedDevices.PrivilegedOperations.All"}
	deviceRead   = []string{"Device.Read.All", "Device.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	deviceWrite  = []string{"Device.ReadWrite.All", "Directory.ReadWrite.All"}
	methodRead   = []string{"UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"}
	methodWrite  = []string{"UserAuthenticationMethod.ReadWrite.All"}
	tapWrite     = []string{"UserAuthMethod-TAP.ReadWrite.All", "UserAuthenticationMethod.ReadWrite.All"}
	auditRead    = []string{"AuditLog.Read.All"}
	domainRead   = []string{"Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	domainWrite  = []string{"Domain.ReadWrite.All", "Directory.ReadWrite.All"}
	mailSend     = []string{"Mail.Send"}
	autopilotRW  = []string{"DeviceManagementServiceConfig.ReadWrite.All"}
)

func perm(anyOf []string, why string) Permission { return Permission{AnyOf: anyOf, Why: why} }

// adminTargets is the caveat GRAPH.md 3.3 gives for writes to accounts that hold admin roles.
var adminTargets = Role{Name: "a higher privileged admin role (for admin accounts)",
	Why: "Graph refuses app-only changes to accounts holding admin roles without one"}

// Needs returns what the steps that cfg enables need, step by step, in runbook order.
func Needs(cfg *config.Config) []Need {
	p := cfg.Policies
	var needs []Need
	add := func(enabled bool, n Need) {
		if enabled {
			needs = append(needs, n)
		}
	}
	for _, t := range []string{config.RoleSource, config.RoleTarget} {
		add(true, Need{Step: StepSync, Tenant: t, Permissions: []Permission{
			perm(userRead, "stream users and their changes (delta) into the store"),
			perm(intuneRead, "stream Intune managed devices into the store"),
			perm(deviceRead, "stream Entra device objects into the store"),
			perm(auditRead, "read the MFA registration report (userRegistrationDetails)"),
			perm(domainRead, "read the tenant's domains and their verification state"),
		}, Licences: []string{LicenceIntune, LicencePremium}})
	}
	add(p.Steps.Provision, Need{Step: StepProvision, Tenant: config.RoleTarget, Permissions: []Permission{
		perm(userCreate, "create missing target accounts with the temporary sign-in name"),
	}})
	add(p.Steps.IssueTAP, Need{Step: StepIssueTAP, Tenant: config.RoleTarget, Permissions: []Permission{
		perm(methodRead, "find target accounts without Microsoft Authenticator"),
		perm(tapWrite, "create a Temporary Access Pass to bootstrap Authenticator"),
	}})
	for _, t := range []string{config.RoleSource, config.RoleTarget} {
		add(len(p.Notifications.Senders) > 0, Need{Step: StepNotify, Tenant: t, Permissions: []Permission{
			perm(mailSend, "send notices from the configured sender mailboxes (sendMail)"),
		}})
	}
	needs = append(needs, Need{Step: StepRevoke, Tenant: config.RoleSource, Permissions: []Permission{
		perm(userRevoke, "revoke the sign-in sessions of the wave's source accounts at window start"),
	}, Roles: []Role{{Name: "User Administrator (for admin accounts; unconfirmed)",
		Why: "third parties report that revoking admins app-only needs a role"}}})
	add(p.Steps.ResetPassword, Need{Step: StepResetPassword, Tenant: config.RoleSource, Permissions: []Permission{
		perm(userPassword, "set a new random source password (sourcePassword: reset)"),
	}, Roles: []Role{{Name: "User Administrator (Privileged Authentication Admin for admins)",
		Why: "Graph refuses app-only password resets without it, whatever the permissions"}}})
	needs = append(needs, deviceNeeds(p)...)
	needs = append(needs,
		Need{Step: StepReleaseDomain, Tenant: config.RoleSource, Permissions: []Permission{
			perm(userUpdate, "rename source sign-in names off the domain before removing it"),
			perm(domainWrite, "remove the custom domain from the source (forceDelete)"),
		}, Roles: []Role{adminTargets}},
		Need{Step: StepAdoptDomain, Tenant: config.RoleTarget, Permissions: []Permission{
			perm(domainWrite, "add the custom domain to the target and verify it"),
		}},
		Need{Step: StepSwitchUPN, Tenant: config.RoleTarget, Permissions: []Permission{
			perm(userUpdate, "switch target sign-in names from the temporary name to the real domain"),
		}, Roles: []Role{adminTargets}},
		Need{Step: StepBlockSource, Tenant: config.RoleSource, Permissions: []Permission{
			perm(userEnable, "block the source accounts at grace end (accountEnabled: false)"),
			perm(userRead, "read the accounts being blocked (needed with User.EnableDisableAccount.All)"),
			perm(userRevoke, "revoke again right after blocking: people may have signed in during grace"),
		}, Roles: []Role{adminTargets}})
	add(p.Steps.RemoveSourceMFA, Need{Step: StepRemoveSourceMFA, Tenant: config.RoleSource,
		Permissions: []Permission{
			perm(methodWrite, "delete the source Microsoft Authenticator registrations at grace end"),
		}})
	for _, t := range []string{config.RoleSource, config.RoleTarget} {
		n := Need{Step: StepTrack, Tenant: t, Permissions: []Permission{
			perm(userRead, "read who still signs in (signInActivity)"),
			perm(auditRead, "read sign-in activity, which needs AuditLog.Read.All with User.Read.All"),
		}, Licences: []string{LicencePremium}}
		if t == config.RoleTarget {
			n.Permissions = append(n.Permissions,
				perm(intuneRead, "follow re-enrolment of devices in the target"))
			n.Licences = append(n.Licences, LicenceIntune)
		}
		needs = append(needs, n)
	}
	return needs
}

// deviceNeeds are the source device steps: what the policy matrix asks for decides which
// Intune permission release-devices needs.
func deviceNeeds(p config.Policies) []Need {
	var needs []Need
	var actions []string
	for _, a := range []string{config.ActionRetire, config.ActionWipe, config.ActionDelete} {
		if p.Devices.Uses(a) {
			actions = append(actions, a)
		}
	}
	if len(actions) > 0 {
		n := Need{Step: StepReleaseDevices + " (" + strings.Join(actions, ", ") + ")",
			Tenant: config.RoleSource, Licences: []string{LicenceIntune}}
		if p.Devices.Uses(config.ActionRetire) || p.Devices.Uses(config.ActionWipe) {
			n.Permissions = append(n.Permissions, perm(intunePriv,
				"send retire or wipe to source devices, as the device policy says"))
		}
		if p.Devices.Uses(config.ActionDelete) {
			n.Permissions = append(n.Permissions, perm(intuneWrite,
				"delete Intune records of source devices, as the device policy says"))
		}
		n.Permissions = append(n.Permissions, perm(intuneRead,
			"read device action results to confirm each release"))
		needs = append(needs, n)
	}
	if p.RemoveEntraDevices {
		needs = append(needs, Need{Step: StepRemoveEntraDevices, Tenant: config.RoleSource,
			Permissions: []Permission{perm(deviceWrite, "delete the source Entra device objects (removeEntraDevices)")}})
	}
	if p.DeregisterAutopilot {
		needs = append(needs, Need{Step: StepDeregisterAutopilot, Tenant: config.RoleSource,
			Permissions: []Permission{perm(autopilotRW,
				"remove released Windows devices from the source's Autopilot (deregisterAutopilot)")},
			Licences: []string{LicenceIntune}})
	}
	return needs
}
