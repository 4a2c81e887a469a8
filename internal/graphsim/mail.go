package graphsim

import (
	"fmt"
	"net/http"
	"strings"
)

func (s *Server) mailRoutes() {
	s.handle("users.sendMail", http.MethodPost, "users/{id}/sendMail", permMailSend, s.sendMail)
}

// sendMailRequest is the sendMail action body. Go's JSON decoding matches names without
// regard to case, which is what lets the documented "message" and "saveToSentItems" and the
// metadata's "Message" and "SaveToSentItems" both through, as Graph does.
type sendMailRequest struct {
	Message         *mailMessage `json:"message"`
	SaveToSentItems *bool        `json:"saveToSentItems"`
}

// mailMessage holds the message properties sendMail honours.
type mailMessage struct {
	Subject                string              `json:"subject"`
	Body                   *mailBody           `json:"body"`
	ToRecipients           []mailRecipient     `json:"toRecipients"`
	CcRecipients           []mailRecipient     `json:"ccRecipients"`
	BccRecipients          []mailRecipient     `json:"bccRecipients"`
	ReplyTo                []mailRecipient     `json:"replyTo"`
	InternetMessageHeaders []mailMessageHeader `json:"internetMessageHeaders"`
}

type mailBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

type mailRecipient struct {
	EmailAddress *struct {
		Address string `json:"address"`
		Name    string `json:"name"`
	} `json:"emailAddress"`
}

type mailMessageHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// sendMail accepts a message for delivery and answers 202: accepted, not delivered. The
// message joins the tenant's sent log, which the inspection API shows.
func (s *Server) sendMail(c *call) {
	if !c.requireJSONContentType() {
		return
	}
	var req sendMailRequest
	if !c.decodeBody(&req) {
		return
	}
	if req.Message == nil {
		c.fail(http.StatusBadRequest, "ErrorInvalidRequest",
			"The 'Message' parameter of the sendMail action is required.")
		return
	}
	sender := c.mailbox()
	if sender == nil {
		return
	}
	msg, ok := c.sentMessage(req.Message)
	if !ok {
		return
	}
	msg.ID = s.newID()
	msg.SenderID = sender.ID
	msg.Sender = sender.Mail
	if msg.Sender == "" {
		msg.Sender = sender.UPN
	}
	msg.SaveToSent = req.SaveToSentItems == nil || *req.SaveToSentItems
	msg.Accepted = c.now
	c.tenant.sent = append(c.tenant.sent, msg)
	c.noContent(http.StatusAccepted)
}

// mailbox resolves the sending user, who must exist and have an Exchange Online mailbox.
// Outlook answers both cases with its own codes rather than the directory's.
func (c *call) mailbox() *User {
	u := c.tenant.userByKey(c.param("id"))
	if u == nil {
		c.fail(http.StatusNotFound, "ErrorInvalidUser",
			"The requested user '"+c.param("id")+"' is invalid.")
		return nil
	}
	if !u.HasMailbox {
		c.fail(http.StatusNotFound, "MailboxNotEnabledForRESTAPI",
			"The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
		return nil
	}
	return u
}

// sentMessage validates the message as Exchange does on submission, minimally: a known body
// type, at least one recipient, resolvable addresses, and custom headers named X-...
func (c *call) sentMessage(m *mailMessage) (*SentMessage, bool) {
	msg := &SentMessage{Subject: m.Subject, ContentType: "text", Headers: map[string]string{}}

	if m.Body != nil {
		ct := strings.ToLower(m.Body.ContentType)
		switch ct {
		case "":
		case "text", "html":
			msg.ContentType = ct
		default:
			c.fail(http.StatusBadRequest, "RequestBodyRead", fmt.Sprintf(
				"Cannot convert the literal '%s' to the expected type 'microsoft.graph.bodyType'.",
				m.Body.ContentType))
			return nil, false
		}
		msg.Content = m.Body.Content
	}

	var ok bool
	if msg.To, ok = c.recipients(m.ToRecipients); !ok {
		return nil, false
	}
	if msg.Cc, ok = c.recipients(m.CcRecipients); !ok {
		return nil, false
	}
	if msg.Bcc, ok = c.recipients(m.BccRecipients); !ok {
		return nil, false
	}
	if _, ok = c.recipients(m.ReplyTo); !ok {
		return nil, false
	}
	if len(msg.To)+len(msg.Cc)+len(msg.Bcc) == 0 {
		c.fail(http.StatusBadRequest, "ErrorInvalidRecipients", "At least one recipient isn't "+
			"valid., A message can't be sent because it contains no recipients.")
		return nil, false
	}

	for _, h := range m.InternetMessageHeaders {
		if len(h.Name) < 3 || !strings.EqualFold(h.Name[:2], "x-") {
			c.fail(http.StatusBadRequest, "InvalidInternetMessageHeader", fmt.Sprintf(
				"The internet message header name '%s' should start with 'x-' or 'X-'.", h.Name))
			return nil, false
		}
		msg.Headers[h.Name] = h.Value
	}
	return msg, true
}

// recipients returns the addresses of a recipient list, answering 400 for an entry that
// carries no usable SMTP address.
func (c *call) recipients(list []mailRecipient) ([]string, bool) {
	var out []string
	for _, r := range list {
		addr := ""
		if r.EmailAddress != nil {
			addr = strings.TrimSpace(r.EmailAddress.Address)
		}
		local, domain, found := strings.Cut(addr, "@")
		if !found || local == "" || domain == "" || strings.Contains(domain, "@") {
			c.fail(http.StatusBadRequest, "ErrorInvalidRecipients", fmt.Sprintf(
				"At least one recipient isn't valid., Recipient '%s' isn't resolved. "+
					"All recipients must be resolved before a message can be submitted.", addr))
			return nil, false
		}
		out = append(out, addr)
	}
	return out, true
}
