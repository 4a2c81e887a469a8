package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/spf13/cobra"

	"github.com/cutoverhq/cutover/internal/config"
	"github.com/cutoverhq/cutover/internal/graph"
)

// StoreFileName is the project's state database inside the project folder.
const StoreFileName = "cutover.db"

// Project is an opened project folder: its validated configuration and where its store
// lives. Graph clients are built on first use, so that commands which never call Graph never
// need credentials. A Project is safe for concurrent use.
type Project struct {
	// Dir is the project folder as given (--project).
	Dir string
	// ConfigPath is Dir/cutover.yaml; StorePath is Dir/cutover.db.
	ConfigPath string
	StorePath  string
	// Config is the loaded configuration with defaults filled in.
	Config *config.Config
	// Logger receives the Graph clients' debug logs; nil discards them.
	Logger *slog.Logger
	// NewClient builds a Graph client; nil means graph.New. Tests may replace it.
	NewClient func(graph.Config) (*graph.Client, error)

	mu      sync.Mutex
	clients map[string][]*graph.Client // by tenant role, one per configured app
}

// projectFlag is the root command's persistent flag naming the project folder.
const projectFlag = "project"

// openProject loads the project that --project names (default: the current folder).
func openProject(cmd *cobra.Command) (*Project, error) {
	dir, err := cmd.Flags().GetString(projectFlag)
	if err != nil || dir == "" {
		dir = "."
	}
	return loadProject(dir)
}

// loadProject loads dir/cutover.yaml. Configuration problems come back as config.Errors,
// each naming file, line and key.
func loadProject(dir string) (*Project, error) {
	p := &Project{Dir: dir, ConfigPath: filepath.Join(dir, config.FileName),
		StorePath: filepath.Join(dir, StoreFileName)}
	cfg, err := config.Load(p.ConfigPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no %s in %s: run cutover init there, or pass --project DIR",
			config.FileName, dir)
	}
	if err != nil {
		return nil, err
	}
	p.Config = cfg
	return p, nil
}

// Graph returns the client of the tenant's first app registration: the one to use for work
// that does not need the combined budget of several registrations.
func (p *Project) Graph(role string) (*graph.Client, error) {
	cs, err := p.GraphClients(role)
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// GraphClients returns one client per app registration of the tenant, in configuration
// order. They share one pacer, so that the tenant-wide throttle buckets are shared while each
// registration keeps its own per-app budget.
func (p *Project) GraphClients(role string) ([]*graph.Client, error) {
	t := p.Config.Tenant(role)
	if t == nil {
		return nil, fmt.Errorf("unknown tenant role %q: want source or target", role)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if cs := p.clients[role]; cs != nil {
		return cs, nil
	}
	newClient := p.NewClient
	if newClient == nil {
		newClient = graph.New
	}
	pacer := graph.NewPacer(nil)
	cs := make([]*graph.Client, 0, len(t.Apps))
	for _, a := range t.Apps {
		gc := GraphConfig(t, a)
		gc.Pacer, gc.Logger = pacer, p.Logger
		c, err := newClient(gc)
		if err != nil {
			return nil, fmt.Errorf("connect to %s tenant as app %s: %w", role, a.Name, err)
		}
		cs = append(cs, c)
	}
	if p.clients == nil {
		p.clients = map[string][]*graph.Client{}
	}
	p.clients[role] = cs
	return cs, nil
}

// GraphConfig translates one app registration of a tenant into a Graph client configuration.
// It carries the secret's reference, never the secret.
func GraphConfig(t *config.Tenant, a config.App) graph.Config {
	return graph.Config{
		Cloud:         t.Cloud,
		AuthorityHost: t.AuthorityHost,
		GraphURL:      t.GraphBaseURL,
		TenantID:      t.Tenant,
		ClientID:      a.ClientID,
		CAFile:        t.CAFile,
		TimeScale:     t.TimeScale,
		Credential: graph.CredentialConfig{
			Kind:                    a.Auth,
			SecretEnv:               a.SecretEnv,
			CertificateFile:         a.CertificateFile,
			CertificatePasswordEnv:  a.CertificatePasswordEnv,
			ManagedIdentityClientID: a.ManagedIdentityClientID,
		},
	}
}
