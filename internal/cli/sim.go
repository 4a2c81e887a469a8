package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cutoverhq/cutover/internal/graphsim"
)

type simOptions struct {
	preset    string
	users     int
	seed      uint64
	listen    string
	caOut     string
	describe  string
	timeScale float64
	people    bool
	// modelFile is a JSON model file (--model); model holds the values of the model flags,
	// applied over the file only when given on the command line.
	modelFile    string
	model        graphsim.Model
	faultWeights string
}

func newSimCmd(s Streams) *cobra.Command {
	opts := simOptions{}
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the Microsoft Graph simulator",
		Long: `Run a local simulator of Microsoft Graph v1.0 and the Microsoft Entra token service.

It serves HTTPS with a certificate authority generated at start, holds a source and a target
tenant seeded from --seed, and keeps serving until interrupted. Point cutover, scripts or
azidentity at the printed authority and Graph URLs and trust the CA file.`,
		Example: `  cutover sim --preset merger --describe sim.json
  cutover sim --preset merger --users 100000 --listen 127.0.0.1:8443 --ca-out ca.pem`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return simRun(cmd, s, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.preset, "preset", "merger", "tenants to seed: merger or small")
	f.IntVar(&opts.users, "users", 2000, "number of source users for the merger preset")
	f.Uint64Var(&opts.seed, "seed", 1, "seed for tenants, people and every random decision")
	f.StringVar(&opts.listen, "listen", "127.0.0.1:0", "address to listen on")
	f.StringVar(&opts.caOut, "ca-out", "", "file to write the certificate authority to (default: next to --describe, or sim-ca.pem)")
	f.StringVar(&opts.describe, "describe", "", "file to write a JSON description of tenants, apps and URLs to")
	f.Float64Var(&opts.timeScale, "time-scale", 1, "simulated seconds per real second")
	f.BoolVar(&opts.people, "people", false, "simulate people acting after their source sessions are revoked")
	addModelFlags(f, &opts)
	return cmd
}

func simRun(cmd *cobra.Command, s Streams, opts simOptions) error {
	if opts.preset != "merger" && opts.preset != "small" {
		return usageError{fmt.Errorf("--preset must be merger or small, not %q", opts.preset)}
	}
	if opts.users < 1 {
		return usageError{fmt.Errorf("--users must be at least 1, not %d", opts.users)}
	}
	if opts.timeScale <= 0 {
		return usageError{fmt.Errorf("--time-scale must be above 0, not %g", opts.timeScale)}
	}
	caOut := opts.caOut
	if caOut == "" {
		caOut = "sim-ca.pem"
		if opts.describe != "" {
			caOut = filepath.Join(filepath.Dir(opts.describe), "sim-ca.pem")
		}
	}

	model, err := simModel(cmd, opts)
	if err != nil {
		return err
	}

	fmt.Fprintf(s.Err, "seeding %s preset (%d users, seed %d)...\n", opts.preset, opts.users, opts.seed)
	simOpts := graphsim.Options{Preset: opts.preset, Users: opts.users, Seed: opts.seed,
		Listen: opts.listen, TimeScale: opts.timeScale, Model: model}
	if opts.people {
		people := graphsim.DefaultPeopleModel()
		simOpts.People = &people
	}
	sim, err := graphsim.New(simOpts)
	if err != nil {
		return err
	}
	if err := sim.Start(); err != nil {
		return err
	}
	defer sim.Close()

	caAbs, _ := filepath.Abs(caOut)
	if err := sim.WriteCA(caAbs); err != nil {
		return err
	}
	if opts.describe != "" {
		dir, _ := filepath.Abs(filepath.Dir(opts.describe))
		d, err := sim.Describe(dir, caAbs)
		if err != nil {
			return err
		}
		if err := graphsim.WriteDescription(opts.describe, d); err != nil {
			return err
		}
	}

	out := s.Out
	fmt.Fprintf(out, "Graph simulator listening on %s\n\n", sim.URL())
	fmt.Fprintf(out, "  Graph base URL   %s\n", sim.GraphURL())
	fmt.Fprintf(out, "  Authority host   %s\n", sim.AuthorityURL())
	fmt.Fprintf(out, "  Inspection API   %s/_sim/tenants\n", sim.URL())
	fmt.Fprintf(out, "  Throttling       %s\n", describeModel(model))
	fmt.Fprintf(out, "  CA certificate   %s\n", caAbs)
	if opts.describe != "" {
		fmt.Fprintf(out, "  Description      %s (tenants, app ids, secrets, certificates)\n", opts.describe)
	}
	fmt.Fprintln(out)
	for _, t := range sim.Tenants() {
		fmt.Fprintf(out, "  %-7s %-14s %s  %d users, %d managed devices\n", t.Role, t.DisplayName, t.ID,
			t.Counts.Users, t.Counts.ManagedDevices)
	}
	fmt.Fprintln(out, "\nTrust the CA (for example SSL_CERT_FILE="+caAbs+") and press Ctrl-C to stop.")

	<-cmd.Context().Done()
	fmt.Fprintln(s.Err, "stopping simulator")
	_ = os.Stdout.Sync()
	return nil
}
