package config

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

// TemplateValues pre-fill the commented cutover.yaml that `cutover init` writes.
type TemplateValues struct {
	Source, Target TemplateTenant
	Senders        []string
	TimeZone       string
}

// TemplateTenant pre-fills one tenant.
type TemplateTenant struct {
	Tenant        string
	Cloud         string
	AuthorityHost string
	GraphBaseURL  string
	CAFile        string
	TimeScale     float64 // written only when not 0 or 1
	Apps          []TemplateApp
}

// TemplateApp pre-fills one app registration.
type TemplateApp struct {
	Name            string
	ClientID        string
	Auth            string
	SecretEnv       string
	CertificateFile string
}

// DefaultTemplateValues are the placeholders of a template nobody pre-filled: they show the
// shape and fail validation until the client ids are set.
func DefaultTemplateValues() TemplateValues {
	app := func(role string) []TemplateApp {
		return []TemplateApp{{Name: "cutover", ClientID: nilGUID, Auth: AuthSecret,
			SecretEnv: "CUTOVER_" + strings.ToUpper(role) + "_SECRET"}}
	}
	return TemplateValues{
		Source:   TemplateTenant{Tenant: "contoso.onmicrosoft.com", Cloud: CloudPublic, Apps: app(RoleSource)},
		Target:   TemplateTenant{Tenant: "fabrikam.onmicrosoft.com", Cloud: CloudPublic, Apps: app(RoleTarget)},
		Senders:  []string{"it-migration@contoso.com"},
		TimeZone: DefaultTimeZone,
	}
}

// Template renders the commented configuration.
func Template(v TemplateValues) ([]byte, error) {
	var b bytes.Buffer
	if err := templateText.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("render configuration template: %w", err)
	}
	return b.Bytes(), nil
}

var plainRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@/+-]*$`)

// quote writes a value as YAML: plain when that cannot be misread, double-quoted otherwise.
func quote(s string) string {
	if plainRE.MatchString(s) {
		switch strings.ToLower(s) {
		case "true", "false", "yes", "no", "on", "off", "null", "~":
		default:
			if _, err := strconv.ParseFloat(s, 64); err != nil {
				return s
			}
		}
	}
	return strconv.Quote(s)
}

func tenantComment(role string) string {
	if role == RoleSource {
		return "the tenant people leave"
	}
	return "the tenant people move to"
}

var templateText = template.Must(template.New("cutover.yaml").Funcs(template.FuncMap{
	"q": quote, "comment": tenantComment,
	"g":         func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) },
	"showScale": func(f float64) bool { return f != 0 && f != 1 },
	"tenants": func(v TemplateValues) []struct {
		Role   string
		Tenant TemplateTenant
	} {
		return []struct {
			Role   string
			Tenant TemplateTenant
		}{{RoleSource, v.Source}, {RoleTarget, v.Target}}
	},
}).Parse(`# cutover.yaml: the configuration of a cutover project (docs/configuration.md).
#
# Safe to commit: it holds references to credentials (the NAME of an environment variable,
# a certificate path), never a secret. Check it with:  cutover config validate
# Check the tenants and permissions with:              cutover check
version: 1

tenants:
{{- range tenants .}}{{$role := .Role}}{{$t := .Tenant}}
  {{$role}}:  # {{comment $role}}
    tenant: {{q $t.Tenant}}  # tenant id (GUID) or a verified domain
    cloud: {{q $t.Cloud}}  # public | usgov | china | custom
{{- if eq $t.Cloud "custom"}}
    authorityHost: {{q $t.AuthorityHost}}  # token service (custom cloud only), https
    graphBaseURL: {{q $t.GraphBaseURL}}  # Graph version root (custom cloud only), https
{{- if showScale $t.TimeScale}}
    timeScale: {{g $t.TimeScale}}  # the simulator's time scale (custom cloud only)
{{- end}}
{{- else}}
    # authorityHost, graphBaseURL: only with cloud: custom (a private cloud, the simulator)
{{- end}}
{{- if $t.CAFile}}
    caFile: {{q $t.CAFile}}  # extra certificate authority to trust
{{- else}}
    # caFile: extra-ca.pem  # extra certificate authority to trust (PEM)
{{- end}}
    apps:  # one or more app registrations; several add up their per-app budgets
{{- range $t.Apps}}
      - name: {{q .Name}}
        clientId: {{q .ClientID}}  # application (client) id
        auth: {{q .Auth}}  # secret | certificate | managed-identity | azure-cli | device-code
{{- if .SecretEnv}}
        secretEnv: {{q .SecretEnv}}  # the NAME of the variable holding the secret
{{- end}}
{{- if .CertificateFile}}
        certificateFile: {{q .CertificateFile}}  # PEM with certificate and private key
{{- end}}
{{- end}}
{{- end}}

policies:
  # What happens to each source Intune device, by platform and ownership:
  #   retire  remove company data and management (personal data stays)
  #   wipe    factory reset: irreversible; needs maxWipesPerApply above 0
  #   delete  delete the Intune record only; the device is not contacted
  #   leave   do nothing
  devices:
    windows: {company: retire, personal: retire}
    macos:   {company: retire, personal: retire}
    ios:     {company: retire, personal: retire}
    android: {company: retire, personal: retire}
  removeEntraDevices: true    # delete the source Entra device objects of released devices
  deregisterAutopilot: true   # remove released Windows devices from the source's Autopilot
  maxWipesPerApply: 0         # cap on wipes per apply; required above 0 when a policy says wipe
  sourcePassword: keep        # keep (fallback until blocked) | reset (random at window start;
                              # switches the reset-password step on)
  graceDays: 14               # days from window start to blocking source accounts (0-90)
  notifications:
    senders:                  # mailboxes notices are sent from (none: no notices)
{{- range .Senders}}
      - {{q .}}
{{- else}} []
{{- end}}
    timeZone: {{q .TimeZone}}  # IANA time zone for times in notices, e.g. Europe/London
  steps:                      # optional steps, off unless switched on
    provision: false          # create missing target accounts with the temporary name
    issueTap: false           # Temporary Access Pass for people without Authenticator
    removeSourceMfa: false    # delete source Authenticator registrations at grace end

exclusions:
  # Accounts cutover never touches (break-glass, named admins): sign-in names or object
  # ids, in either tenant.
  users: []
  #  - breakglass1@contoso.onmicrosoft.com

# Waves can also be created with "cutover waves create"; waves declared here win over the
# store and can only be changed here. Times are RFC 3339 with an offset.
waves: []
#  - name: wave-1
#    windowStart: "2026-06-06T18:00:00+01:00"
#    windowEnd: "2026-06-08T06:00:00+01:00"
#    graceDays: 14
`))
