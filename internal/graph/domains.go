package graph

import (
	"context"
	"iter"
	"net/http"
	"net/url"
)

// Domain is a domain of the tenant (GRAPH.md 7).
type Domain struct {
	ID                 string   `json:"id"`
	IsVerified         bool     `json:"isVerified"`
	IsDefault          bool     `json:"isDefault"`
	IsInitial          bool     `json:"isInitial"`
	IsRoot             bool     `json:"isRoot"`
	AuthenticationType string   `json:"authenticationType"`
	SupportedServices  []string `json:"supportedServices"`
}

// DomainDNSRecord is a verification record; Text is set for TXT records, MailExchange and
// Preference for MX records.
type DomainDNSRecord struct {
	ODataType        string `json:"@odata.type"`
	ID               string `json:"id"`
	Label            string `json:"label"`
	RecordType       string `json:"recordType"`
	SupportedService string `json:"supportedService"`
	TTL              int    `json:"ttl"`
	IsOptional       bool   `json:"isOptional"`
	Text             string `json:"text"`
	MailExchange     string `json:"mailExchange"`
	Preference       int    `json:"preference"`
}

// DirectoryObject is an item of domainNameReferences: a user, group or application that
// still uses the domain.
type DirectoryObject struct {
	ODataType         string `json:"@odata.type"`
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
	Mail              string `json:"mail"`
}

func domainPath(name string) string { return "/domains/" + url.PathEscape(name) }

// ListDomains streams the tenant's domains. Graph ignores $top, $filter and $search here:
// filter on the client.
func (c *Client) ListDomains(ctx context.Context) iter.Seq2[Domain, error] {
	return Items[Domain](ctx, c, Request{Path: "/domains"})
}

// GetDomain reads one domain; a 404 after forceDelete means the domain is gone.
func (c *Client) GetDomain(ctx context.Context, name string) (*Domain, error) {
	var d Domain
	if err := c.doDecode(ctx, Request{Path: domainPath(name)}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// AddDomainRequest adds an unverified domain. Adding a name the tenant already has fails, so
// after an ambiguous failure read the domain instead of resending.
func AddDomainRequest(name string) Request {
	return Request{Method: http.MethodPost, Path: "/domains", Body: map[string]string{"id": name}}
}

// AddDomain adds an unverified domain (201).
func (c *Client) AddDomain(ctx context.Context, name string) (*Domain, error) {
	var d Domain
	if err := c.doDecode(ctx, AddDomainRequest(name), &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// DomainVerificationRecords lists the DNS records that prove ownership of a domain.
func (c *Client) DomainVerificationRecords(ctx context.Context,
	name string) iter.Seq2[DomainDNSRecord, error] {
	return Items[DomainDNSRecord](ctx, c, Request{Path: domainPath(name) + "/verificationDnsRecords"})
}

// VerifyDomainRequest asks Graph to check the domain's DNS record. Verifying again is
// harmless, so it is marked idempotent.
func VerifyDomainRequest(name string) Request {
	return Request{Method: http.MethodPost, Path: domainPath(name) + "/verify", Idempotent: true}
}

// VerifyDomain asks Graph to check the domain's DNS record (200 with the domain). Early
// failures are expected while DNS propagates.
func (c *Client) VerifyDomain(ctx context.Context, name string) (*Domain, error) {
	var d Domain
	if err := c.doDecode(ctx, VerifyDomainRequest(name), &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// DomainNameReferences streams the objects that still use the domain; typeCast narrows it
// ("microsoft.graph.user", "microsoft.graph.group") or is empty for all. Each page costs 4 RU.
func (c *Client) DomainNameReferences(ctx context.Context,
	name, typeCast string) iter.Seq2[DirectoryObject, error] {
	p := domainPath(name) + "/domainNameReferences"
	if typeCast != "" {
		p += "/" + typeCast
	}
	return Items[DirectoryObject](ctx, c, Request{Path: p})
}

// DeleteDomainRequest removes a domain that nothing references any more.
func DeleteDomainRequest(name string) Request {
	return Request{Method: http.MethodDelete, Path: domainPath(name)}
}

// DeleteDomain removes a domain that nothing references any more (204; 404 means gone).
func (c *Client) DeleteDomain(ctx context.Context, name string) (*Response, error) {
	return c.Do(ctx, DeleteDomainRequest(name))
}

// ForceDeleteDomainRequest renames every reference to the initial domain and deletes the
// domain, asynchronously. disableUserAccounts is always sent because it defaults to true,
// which would disable every renamed user. A repeat while the job runs is accepted again, so it
// is marked idempotent.
func ForceDeleteDomainRequest(name string, disableUserAccounts bool) Request {
	return Request{Method: http.MethodPost, Path: domainPath(name) + "/forceDelete",
		Body: map[string]bool{"disableUserAccounts": disableUserAccounts}, Idempotent: true}
}

// ForceDeleteDomain starts a forceDelete (204); the domain is gone when GetDomain answers
// 404. It fails above 1,000 references.
func (c *Client) ForceDeleteDomain(ctx context.Context, name string,
	disableUserAccounts bool) (*Response, error) {
	return c.Do(ctx, ForceDeleteDomainRequest(name, disableUserAccounts))
}

// Message is the part of an Outlook message a notice needs.
type Message struct {
	Subject                string           `json:"subject"`
	Body                   ItemBody         `json:"body"`
	ToRecipients           []Recipient      `json:"toRecipients"`
	CcRecipients           []Recipient      `json:"ccRecipients,omitempty"`
	BccRecipients          []Recipient      `json:"bccRecipients,omitempty"`
	ReplyTo                []Recipient      `json:"replyTo,omitempty"`
	InternetMessageHeaders []InternetHeader `json:"internetMessageHeaders,omitempty"`
}

// ItemBody is a message body; ContentType is "html" or "text" (the metadata's spelling).
type ItemBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

// Recipient is one address.
type Recipient struct {
	EmailAddress EmailAddress `json:"emailAddress"`
}

// EmailAddress is an address with an optional name.
type EmailAddress struct {
	Address string `json:"address"`
	Name    string `json:"name,omitempty"`
}

// InternetHeader is a custom message header; names start with "X-".
type InternetHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SendMailRequest sends a message from a mailbox. Not idempotent: a retry after a timeout
// can deliver twice, so the client never resends it after an ambiguous failure.
func SendMailRequest(sender string, m Message, saveToSentItems bool) Request {
	return Request{Method: http.MethodPost, Path: "/users/" + url.PathEscape(sender) + "/sendMail",
		Body: struct {
			Message         Message `json:"message"`
			SaveToSentItems bool    `json:"saveToSentItems"`
		}{m, saveToSentItems}}
}

// SendMail sends a message (202 Accepted: accepted, not delivered). It is paced per mailbox:
// 4 concurrent requests and the Exchange rate of 30 messages a minute.
func (c *Client) SendMail(ctx context.Context, sender string, m Message,
	saveToSentItems bool) (*Response, error) {
	return c.Do(ctx, SendMailRequest(sender, m, saveToSentItems))
}
