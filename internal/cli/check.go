package cli

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/spf13/cobra"

	"github.com/cutoverhq/cutover/internal/check"
	"github.com/cutoverhq/cutover/internal/config"
	"github.com/cutoverhq/cutover/internal/graph"
)

type checkOptions struct {
	output  string
	project func() (*Project, error)
	// open builds a session per app registration; nil signs in through internal/graph.
	open check.Opener
	now  func() time.Time
}

func newCheckCmd(s Streams) *cobra.Command {
	opts := checkOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check sign-in, permissions, roles and licences in both tenants",
		Long: `Sign in to both tenants with every configured app registration, read the application
permissions each token grants, and list every enabled step with the permissions and directory
roles it needs, whether each is granted, and why it is needed. Also reports the Intune licence,
the Entra ID P1/P2 licence the MFA registration report needs, and credential expiry where it is
visible. Nothing is changed in either tenant.

Exit code 3 when something needed is missing (a permission, a licence, a working credential).
Directory roles cannot be read app-only; they are listed as "not verifiable app-only".`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutputFormat(opts.output); err != nil {
				return err
			}
			opts.project = func() (*Project, error) { return openProject(cmd) }
			return checkRun(cmd.Context(), s, opts)
		},
	}
	addOutputFlag(cmd, &opts.output)
	return cmd
}

func checkRun(ctx context.Context, s Streams, opts checkOptions) error {
	p, err := opts.project()
	if err != nil {
		return err
	}
	open := opts.open
	if open == nil {
		open = openGraphSession
	}
	fmt.Fprintf(s.Err, "checking %s (source) and %s (target)...\n", p.Config.Source.Tenant,
		p.Config.Target.Tenant)
	rep, err := check.Checker{Open: open, Now: opts.now}.Run(ctx, p.Config)
	if err != nil {
		return err
	}
	if err := checkTable(rep, opts.output).write(s.Out, opts.output, rep); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if rep.OK() {
		fmt.Fprintln(s.Err, "everything the enabled steps need is granted "+
			"(directory roles cannot be verified app-only: see docs/check.md)")
		return nil
	}
	return exitError{code: ExitCheckFailed, err: missingError(rep)}
}

// checkTable lays the report out. The text table folds the detail into the granted column;
// CSV keeps every field apart.
func checkTable(rep *check.Report, format string) resultTable {
	if format == outputCSV {
		t := resultTable{Headers: []string{"step", "tenant", "app", "kind", "needs", "granted",
			"detail", "why"}}
		for _, r := range rep.Rows {
			t.Rows = append(t.Rows, []string{r.Step, r.Tenant, r.App, r.Kind, r.Needs,
				string(r.Status), r.Detail, r.Why})
		}
		return t
	}
	t := resultTable{Headers: []string{"step", "tenant", "app", "needs", "granted", "why"}}
	for _, r := range rep.Rows {
		needs := r.Needs
		switch r.Kind {
		case check.KindRole:
			needs = "role: " + needs
		case check.KindLicence:
			needs = "licence: " + needs
		}
		granted := string(r.Status)
		if r.Detail != "" {
			granted += " (" + r.Detail + ")"
		}
		app := r.App
		if app == "" {
			app = "-"
		}
		t.Rows = append(t.Rows, []string{r.Step, r.Tenant, app, needs, granted, r.Why})
	}
	return t
}

// missingError names each missing item with the step that needs it.
func missingError(rep *check.Report) error {
	var items []string
	for _, r := range rep.MissingRows() {
		who := r.Tenant
		if r.App != "" {
			who += " app " + r.App
		}
		items = append(items, fmt.Sprintf("  %s %s for %s (%s)", r.Kind, r.Needs, r.Step, who))
	}
	return fmt.Errorf("%d needed item(s) missing:\n%s", len(items), strings.Join(items, "\n"))
}

// openGraphSession signs in through internal/graph with a credential that remembers the
// token it hands out, so that check can read the token's roles.
func openGraphSession(t *config.Tenant, a config.App) (check.Session, error) {
	gc := GraphConfig(t, a)
	gc.Retry = graph.RetryConfig{Budget: 30 * time.Second, MaxAttempts: 3}
	cred, err := graph.NewCredential(gc)
	if err != nil {
		return nil, err
	}
	rec := &recordingCredential{cred: cred}
	c, err := graph.NewWithCredential(gc, rec)
	if err != nil {
		return nil, err
	}
	return graphSession{Client: c, rec: rec}, nil
}

type graphSession struct {
	*graph.Client
	rec *recordingCredential
}

func (g graphSession) AccessToken() string { return g.rec.last() }

// recordingCredential passes token requests through and keeps the last token.
type recordingCredential struct {
	cred azcore.TokenCredential
	mu   sync.Mutex
	tok  string
}

// GetToken implements azcore.TokenCredential.
func (r *recordingCredential) GetToken(ctx context.Context,
	o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := r.cred.GetToken(ctx, o)
	if err == nil {
		r.mu.Lock()
		r.tok = tok.Token
		r.mu.Unlock()
	}
	return tok, err
}

func (r *recordingCredential) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tok
}
