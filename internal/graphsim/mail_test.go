package graphsim

import (
	"net/http"
	"testing"
)

// notice is a sendMail body in the documented spelling.
func mailNotice(to ...string) map[string]any {
	recipients := make([]any, 0, len(to))
	for _, addr := range to {
		recipients = append(recipients, map[string]any{"emailAddress": map[string]any{"address": addr}})
	}
	return map[string]any{
		"message": map[string]any{
			"subject":      "Your sign-in changes on Saturday",
			"body":         map[string]any{"contentType": "HTML", "content": "<p>Hello</p>"},
			"toRecipients": recipients,
			"internetMessageHeaders": []any{
				map[string]any{"name": "X-Cutover-Message", "value": "wave-1/mary"},
			},
		},
		"saveToSentItems": false,
	}
}

// sentLog returns a copy of the tenant's sent messages.
func sentLog(s *Server, tn *Tenant) []*SentMessage {
	var out []*SentMessage
	withState(s, func() { out = append(out, tn.sent...) })
	return out
}

func TestSendMailLandsInLog(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{})
	src := tenant(t, s, "source")
	sender, _ := methodUsers(t, s)
	tok := token(t, s, "source", "cutover")

	r := do(t, s, tok, http.MethodPost, "/users/"+sender.ID+"/sendMail", mailNotice("mary.major@contoso.com"))
	expectStatus(t, r, http.StatusAccepted, "")
	if len(r.Raw) != 0 {
		t.Errorf("202 with a body: %s", r.Raw)
	}
	sent := sentLog(s, src)
	if len(sent) != 1 {
		t.Fatalf("%d messages in the log, want 1", len(sent))
	}
	m := sent[0]
	if m.SenderID != sender.ID || m.Subject != "Your sign-in changes on Saturday" ||
		m.ContentType != "html" || m.Content != "<p>Hello</p>" || m.SaveToSent ||
		len(m.To) != 1 || m.To[0] != "mary.major@contoso.com" || m.ID == "" || m.Accepted.IsZero() {
		t.Errorf("logged message = %+v", m)
	}
	if m.Headers["X-Cutover-Message"] != "wave-1/mary" {
		t.Errorf("headers = %v", m.Headers)
	}

	// The metadata's parameter spelling works too, and saveToSentItems defaults to true.
	body := map[string]any{"Message": map[string]any{
		"Subject":       "Reminder",
		"Body":          map[string]any{"ContentType": "Text", "Content": "plain"},
		"CcRecipients":  []any{map[string]any{"emailAddress": map[string]any{"address": "a@contoso.com"}}},
		"BccRecipients": []any{map[string]any{"emailAddress": map[string]any{"address": "b@contoso.com"}}},
	}}
	expectStatus(t, do(t, s, tok, http.MethodPost, "/users/"+sender.UPN+"/sendMail", body),
		http.StatusAccepted, "")
	sent = sentLog(s, src)
	if len(sent) != 2 {
		t.Fatalf("%d messages in the log, want 2", len(sent))
	}
	m = sent[1]
	if m.Subject != "Reminder" || m.ContentType != "text" || !m.SaveToSent ||
		len(m.To) != 0 || len(m.Cc) != 1 || len(m.Bcc) != 1 || m.Bcc[0] != "b@contoso.com" {
		t.Errorf("metadata-spelled message = %+v", m)
	}
}

func TestSendMailRefusals(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{})
	src := tenant(t, s, "source")
	sender, noMailbox := methodUsers(t, s)
	withState(s, func() { noMailbox.HasMailbox = false })
	tok := token(t, s, "source", "cutover")

	withMessage := func(edit func(m map[string]any)) map[string]any {
		b := mailNotice("mary.major@contoso.com")
		edit(b["message"].(map[string]any))
		return b
	}
	cases := []struct {
		name   string
		tok    string
		user   string
		body   any
		status int
		code   string
	}{
		{name: "no message", body: map[string]any{"saveToSentItems": true},
			status: http.StatusBadRequest, code: "ErrorInvalidRequest"},
		{name: "empty message", body: map[string]any{"message": map[string]any{}},
			status: http.StatusBadRequest, code: "ErrorInvalidRecipients"},
		{name: "no recipients", body: mailNotice(), status: http.StatusBadRequest, code: "ErrorInvalidRecipients"},
		{name: "unresolvable recipient", body: mailNotice("mary.major"),
			status: http.StatusBadRequest, code: "ErrorInvalidRecipients"},
		{name: "recipient without address", body: withMessage(func(m map[string]any) {
			m["ccRecipients"] = []any{map[string]any{"emailAddress": map[string]any{"name": "Mary"}}}
		}), status: http.StatusBadRequest, code: "ErrorInvalidRecipients"},
		{name: "unknown body type", body: withMessage(func(m map[string]any) {
			m["body"] = map[string]any{"contentType": "markdown", "content": "*hi*"}
		}), status: http.StatusBadRequest, code: "RequestBodyRead"},
		{name: "header without X- prefix", body: withMessage(func(m map[string]any) {
			m["internetMessageHeaders"] = []any{map[string]any{"name": "Cutover-Message", "value": "1"}}
		}), status: http.StatusBadRequest, code: "InvalidInternetMessageHeader"},
		{name: "not JSON", body: "subject: hello", status: http.StatusBadRequest, code: "BadRequest"},
		{name: "sender without mailbox", user: noMailbox.ID, body: mailNotice("a@contoso.com"),
			status: http.StatusNotFound, code: "MailboxNotEnabledForRESTAPI"},
		{name: "unknown sender", user: "nobody@contoso.com", body: mailNotice("a@contoso.com"),
			status: http.StatusNotFound, code: "ErrorInvalidUser"},
		{name: "read-only app", tok: token(t, s, "source", "cutover-readonly"), body: mailNotice("a@contoso.com"),
			status: http.StatusForbidden, code: "Authorization_RequestDenied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			user, callTok := sender.ID, tok
			if tc.user != "" {
				user = tc.user
			}
			if tc.tok != "" {
				callTok = tc.tok
			}
			expectStatus(t, do(t, s, callTok, http.MethodPost, "/users/"+user+"/sendMail", tc.body),
				tc.status, tc.code)
		})
	}
	expectStatus(t, do(t, s, tok, http.MethodPost, "/users/"+sender.ID+"/sendMail", nil),
		http.StatusUnsupportedMediaType, "UnsupportedMediaType")
	if n := len(sentLog(s, src)); n != 0 {
		t.Errorf("%d refused messages reached the log", n)
	}
}
