// Package cli holds cutover's commands. Every command reads its input from and writes its
// output to an injected Streams value, and receives a context that Ctrl-C cancels, so that
// tests drive commands in-process exactly as a person would from a terminal.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes. They are listed in `cutover --help` and in docs/cli.md.
const (
	ExitOK    = 0 // success
	ExitError = 1 // the command failed; the message says why
	ExitUsage = 2 // bad flags or arguments
	// ExitCheckFailed: cutover check found a needed permission, licence or credential missing.
	ExitCheckFailed = 3
	ExitInterrupt   = 130
)

// Streams are the standard streams a command uses. Results go to Out, progress and
// diagnostics to Err.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// IsTerminal reports whether Err is a terminal, which decides whether progress bars
	// and colour are drawn.
	IsTerminal bool
}

// StandardStreams returns the process's standard streams.
func StandardStreams() Streams {
	fi, err := os.Stderr.Stat()
	tty := err == nil && fi.Mode()&os.ModeCharDevice != 0
	return Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, IsTerminal: tty}
}

// usageError marks errors caused by the command line itself.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitError gives an outcome its own exit code, such as a check that found something missing.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// Main runs cutover with args and returns the process exit code. It is the one place where
// errors become exit codes.
func Main(args []string, s Streams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, s)
}

// Run is Main with a caller-owned context; tests use it.
func Run(ctx context.Context, args []string, s Streams) int {
	root := NewRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}

	if reportConfigErrors(s, err) {
		return ExitError
	}
	fmt.Fprintf(s.Err, "cutover: %v\n", err)
	var ue usageError
	var ee exitError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintln(s.Err, "Run 'cutover --help' for usage.")
		return ExitUsage
	case errors.Is(err, context.Canceled):
		return ExitInterrupt
	default:
		return ExitError
	}
}

const exitCodesHelp = `Exit codes:
  0    success
  1    the command failed; the message on stderr says why
  2    bad flags or arguments
  3    cutover check: something needed is missing
  130  interrupted (Ctrl-C)`

// NewRootCmd builds the command tree.
func NewRootCmd(s Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "cutover",
		Short: "Run the identity-and-device cutover of a Microsoft 365 tenant-to-tenant migration",
		Long: `cutover revokes sign-in sessions, blocks old accounts on schedule, releases devices,
moves the domain and tells every user what happens, against Microsoft Graph or its
built-in simulator.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetIn(s.In)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.SetUsageTemplate(root.UsageTemplate() + "\n" + exitCodesHelp + "\n")
	root.PersistentFlags().String(projectFlag, ".", "project folder holding cutover.yaml and cutover.db")

	root.AddCommand(newVersionCmd(s), newSimCmd(s))
	root.AddCommand(newConfigCmd(s), newInitCmd(s), newCheckCmd(s))
	root.AddCommand(newPeopleCmd(s), newWavesCmd(s), newStatusCmd(s))
	root.AddCommand(newSyncCmd(s))
	return root
}
