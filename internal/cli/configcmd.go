package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/cutoverhq/cutover/internal/config"
)

func newConfigCmd(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with cutover.yaml",
		Args:  noArgs,
	}
	cmd.AddCommand(newConfigValidateCmd(s))
	return cmd
}

type configValidateOptions struct {
	project func() (*Project, error)
}

func newConfigValidateCmd(s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check cutover.yaml and report every problem with its line",
		Long: `Check cutover.yaml without contacting any tenant: keys, values, credential references,
files it names, policies and waves. Every problem is reported with file, line and key; nothing
is changed. Exit code 1 when there is a problem.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := configValidateOptions{project: func() (*Project, error) { return openProject(cmd) }}
			return configValidateRun(cmd.Context(), s, opts)
		},
	}
}

func configValidateRun(_ context.Context, s Streams, opts configValidateOptions) error {
	p, err := opts.project()
	if err != nil {
		return err
	}
	c := p.Config
	fmt.Fprintf(s.Out, "%s is valid: %s → %s, %d + %d app registration(s), %d wave(s)\n",
		p.ConfigPath, c.Source.Tenant, c.Target.Tenant, len(c.Source.Apps), len(c.Target.Apps),
		len(c.Waves))
	for _, name := range unsetSecretVariables(c) {
		fmt.Fprintf(s.Err, "note: %s is not set in this environment; cutover check and every "+
			"command that signs in will need it\n", name)
	}
	return nil
}

// unsetSecretVariables lists the secret variables the configuration names that are empty
// here. Validation does not fail on them: the file may be checked where it is edited, not
// where it runs.
func unsetSecretVariables(c *config.Config) []string {
	var names []string
	for _, t := range []config.Tenant{c.Source, c.Target} {
		for _, a := range t.Apps {
			if a.SecretEnv != "" && os.Getenv(a.SecretEnv) == "" && !slices.Contains(names, a.SecretEnv) {
				names = append(names, a.SecretEnv)
			}
		}
	}
	return names
}

// reportConfigErrors prints configuration problems one per line, as compilers do, so that
// editors can jump to them, and reports whether err was such a list.
func reportConfigErrors(s Streams, err error) bool {
	var es config.Errors
	if !errors.As(err, &es) || len(es) == 0 {
		return false
	}
	for _, e := range es {
		fmt.Fprintln(s.Err, e)
	}
	noun := "problem"
	if len(es) > 1 {
		noun = "problems"
	}
	fmt.Fprintf(s.Err, "cutover: %d %s in %s; nothing was changed\n", len(es), noun, es[0].File)
	return true
}
