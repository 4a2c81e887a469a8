package graphsim

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	user := map[string]any{
		"id":                "6f1c2b1e-0000-4000-8000-000000000001",
		"userPrincipalName": "O'Neil.Mary@contoso.com",
		"displayName":       "Mary O'Neil (Sales)",
		"mail":              nil,
		"accountEnabled":    true,
		"employeeId":        "100234",
		"signInActivity":    map[string]any{"lastSignInDateTime": "2025-06-01T08:00:00Z"},
		"assignedLicenses": []any{
			map[string]any{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "disabledPlans": []string{}},
		},
		"methodsRegistered": []string{"microsoftAuthenticatorPush", "fido2"},
	}
	tests := []struct {
		filter   string
		match    bool
		advanced bool
	}{
		{filter: "userPrincipalName eq 'o''neil.mary@contoso.com'", match: true},
		{filter: "userPrincipalName eq 'someone@contoso.com'", match: false},
		{filter: "startsWith(userPrincipalName,'o''NEIL')", match: true},
		{filter: "startswith(displayName, 'Mary O''Neil (')", match: true},
		{filter: "endsWith(userPrincipalName,'@CONTOSO.COM')", match: true, advanced: true},
		{filter: "accountEnabled eq true", match: true},
		{filter: "accountEnabled eq false", match: false},
		{filter: "accountEnabled ne false", match: true, advanced: true},
		{filter: "not(accountEnabled eq true)", match: false, advanced: true},
		{filter: "mail eq null", match: true},
		{filter: "mail eq 'x@contoso.com'", match: false},
		{filter: "startsWith(mail,'x')", match: false},
		{filter: "employeeId eq '100234'", match: true},
		{filter: "id in ('a', '6F1C2B1E-0000-4000-8000-000000000001')", match: true},
		{filter: "id in ('a','b')", match: false},
		{filter: "accountEnabled eq false or employeeId eq '100234'", match: true},
		{filter: "accountEnabled eq false or employeeId eq '1' and mail eq null", match: false},
		{filter: "(accountEnabled eq false or employeeId eq '100234') and mail eq null", match: true},
		{filter: "signInActivity/lastSignInDateTime le 2025-06-07T00:00:00Z", match: true},
		{filter: "signInActivity/lastSignInDateTime gt 2025-06-07T00:00:00Z", match: false},
		{filter: "assignedLicenses/any(x:x/skuId eq 6fd2c87f-b296-42f0-b197-1e91e994b900)", match: true},
		{filter: "assignedLicenses/any(x:x/skuId eq 00000000-b296-42f0-b197-1e91e994b900)", match: false},
		{filter: "methodsRegistered/any(m:m eq 'fido2')", match: true},
		{filter: "methodsRegistered/any(m:m eq 'windowsHelloForBusiness')", match: false},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			fe, err := parseFilter(tc.filter)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := fe.eval(user); got != tc.match {
				t.Errorf("match = %v, want %v", got, tc.match)
			}
			if fe.advanced != tc.advanced {
				t.Errorf("advanced = %v, want %v", fe.advanced, tc.advanced)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	ids := make([]string, 16)
	for i := range ids {
		ids[i] = fmt.Sprintf("'%d'", i)
	}
	tests := []struct{ name, filter, message string }{
		{"missing literal", "userPrincipalName eq", "unrecognised literal"},
		{"unknown operator", "userPrincipalName like 'a'", "unsupported operator"},
		{"unterminated string", "userPrincipalName eq 'abc", "unterminated"},
		{"unbalanced parenthesis", "(accountEnabled eq true", "expected ')'"},
		{"trailing tokens", "accountEnabled eq true false", "syntax error"},
		{"in with 16 values", "id in (" + strings.Join(ids, ",") + ")", "Max allowed: 15"},
		{"value over 120 characters", "displayName eq '" + strings.Repeat("a", 121) + "'", "120 characters"},
		{"lambda body without its variable", "methodsRegistered/any(m:x eq 'fido2')", "lambda body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFilter(tc.filter)
			if err == nil || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error = %v, want one mentioning %q", err, tc.message)
			}
		})
	}
}
