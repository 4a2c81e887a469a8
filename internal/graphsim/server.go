package graphsim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Options configure a simulator. The zero value is usable: the small preset, seed 1, real
// time, listening on 127.0.0.1 with a free port.
type Options struct {
	// Preset selects the seeded tenants: "small" (tests) or "merger".
	Preset string
	// Users is the number of source users the merger preset creates (default 2,000).
	Users int
	// DevicesPerUser is the mean number of Intune devices per source user (default 1.5).
	DevicesPerUser float64
	// Seed makes tenants, people and every random decision reproducible.
	Seed uint64
	// TimeScale makes simulated time run this many times faster than real time.
	TimeScale float64
	// Listen is the TCP address to serve on (default 127.0.0.1:0).
	Listen string
	// Start is the simulated time at start (default: the real time at start, so that at time
	// scale 1 simulated and real time agree). Seeded state is placed relative to it.
	Start time.Time
	// EmptyPageRate is the probability that a listing page comes back empty while still
	// carrying a next link, as Graph sometimes does.
	EmptyPageRate float64
	// RequestLogSize bounds the request log kept for the inspection API (default 200,000).
	RequestLogSize int
	// People, when set, makes simulated people act after their source sessions are revoked:
	// register Authenticator and sign in in the target, re-enrol devices, and (some of them)
	// keep using the source until blocked.
	People *PeopleModel
	// TokenLifetime is the real-time lifetime of issued access tokens; zero picks a random
	// 60 to 90 minutes per token, as Entra does.
	TokenLifetime time.Duration
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Now is the real clock; nil uses time.Now.
	Now func() time.Time
	// Model is the throttling, fault and latency model (model.go). The zero value is the
	// published large-tenant limits with latency and noise faults off; `cutover sim` starts
	// from DefaultModel, which turns both on.
	Model Model
}

func (o *Options) defaults() {
	if o.Preset == "" {
		o.Preset = "small"
	}
	if o.Users <= 0 {
		o.Users = 2000
	}
	if o.DevicesPerUser <= 0 {
		o.DevicesPerUser = 1.5
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.TimeScale <= 0 {
		o.TimeScale = 1
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Start.IsZero() {
		o.Start = o.Now().UTC().Truncate(time.Second)
	}
	if o.RequestLogSize <= 0 {
		o.RequestLogSize = 200_000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Server is a running simulator.
type Server struct {
	opts   Options
	clock  *Clock
	log    *slog.Logger
	routes []*route

	// mu guards every tenant and all simulator state below it. One lock keeps cross-tenant
	// rules (a domain verified in one tenant at a time) simple and the state consistent.
	mu      sync.Mutex
	tenants []*Tenant
	byID    map[string]*Tenant
	apps    map[string]*App // by client id
	rng     *rand.Rand
	events  eventQueue
	reqlog  *requestLog
	tokens  *tokenService
	// dnsTXT is the simulated public DNS: TXT records by domain name, published through
	// the inspection API.
	dnsTXT map[string][]string
	// peopleStarted records the people whose post-revoke behaviour has been scheduled.
	peopleStarted map[string]bool
	seqBatch      uint64

	clientOnce sync.Once
	client     *http.Client
	// sm is the throttling, fault and latency model (throttle.go).
	sm *simModel

	ca      *authority
	ln      net.Listener
	srv     *http.Server
	baseURL string
	done    chan struct{}
}

// New builds a simulator and seeds its tenants, without serving yet.
func New(opts Options) (*Server, error) {
	opts.defaults()
	s := &Server{
		opts:   opts,
		clock:  NewClock(opts.Now, opts.Start, opts.TimeScale),
		log:    opts.Logger,
		byID:   map[string]*Tenant{},
		apps:   map[string]*App{},
		rng:    rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		reqlog: newRequestLog(opts.RequestLogSize),
		done:   make(chan struct{}),
		dnsTXT: map[string][]string{},

		peopleStarted: map[string]bool{},
	}
	sm, err := newSimModel(opts.Model, opts.Seed, opts.TimeScale, s.clock.Now())
	if err != nil {
		return nil, fmt.Errorf("throttling model: %w", err)
	}
	s.sm = sm
	if err := s.seed(); err != nil {
		return nil, fmt.Errorf("seed tenants: %w", err)
	}
	tokens, err := newTokenService(s)
	if err != nil {
		return nil, err
	}
	s.tokens = tokens
	s.registerRoutes()
	return s, nil
}

// Start listens on the configured address and serves HTTPS until Close.
func (s *Server) Start() error {
	ca, err := newAuthority(time.Now())
	if err != nil {
		return err
	}
	s.ca = ca

	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.Listen, err)
	}
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	hosts := []string{"127.0.0.1", "::1", "localhost"}
	if host != "" && host != "127.0.0.1" && host != "::" && host != "0.0.0.0" {
		hosts = append(hosts, host)
	}
	cert, err := ca.serverCert(time.Now(), hosts)
	if err != nil {
		ln.Close()
		return err
	}

	s.ln = ln
	s.baseURL = "https://" + advertisedAddr(ln.Addr().String())
	s.srv = &http.Server{
		Handler:           s,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	go func() {
		if err := s.srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	go s.runEvents()
	return nil
}

// advertisedAddr turns a wildcard listen address into one a client can dial.
func advertisedAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// Close stops serving and ends background work.
func (s *Server) Close() error {
	select {
	case <-s.done:
		return nil
	default:
		close(s.done)
	}
	if s.srv == nil {
		return nil
	}
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}

// URL is the root of the simulator, for example https://127.0.0.1:8443.
func (s *Server) URL() string { return s.baseURL }

// GraphURL is the Graph base URL clients use, for example https://127.0.0.1:8443/v1.0.
func (s *Server) GraphURL() string { return s.baseURL + "/v1.0" }

// AuthorityURL is the token service's authority host, for azidentity's AuthorityHost.
func (s *Server) AuthorityURL() string { return s.baseURL + "/" }

// CAPEM returns the PEM-encoded certificate authority that signed the server certificate.
func (s *Server) CAPEM() []byte {
	if s.ca == nil {
		return nil
	}
	return s.ca.certPEM
}

// WriteCA writes the certificate authority to path.
func (s *Server) WriteCA(path string) error {
	if err := os.WriteFile(path, s.CAPEM(), 0o644); err != nil {
		return fmt.Errorf("write CA file: %w", err)
	}
	return nil
}

// Clock returns the simulated clock.
func (s *Server) Clock() *Clock { return s.clock }

// TLSClientConfig returns a TLS configuration that trusts the simulator's CA.
func (s *Server) TLSClientConfig() *tls.Config {
	return &tls.Config{RootCAs: s.certPool(), MinVersion: tls.VersionTLS12}
}

// HTTPClient returns an HTTP client that trusts the simulator. It is shared: its idle
// connections are closed when the simulator closes.
func (s *Server) HTTPClient() *http.Client {
	s.clientOnce.Do(func() {
		s.client = &http.Client{Transport: &http.Transport{TLSClientConfig: s.TLSClientConfig(),
			MaxIdleConnsPerHost: 256, ForceAttemptHTTP2: true}}
	})
	return s.client
}

// ServeHTTP routes a request to the inspection API, the token service or Graph.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/_sim/"):
		s.serveInspect(w, r)
	case p == "/v1.0" || strings.HasPrefix(p, "/v1.0/"):
		s.serveGraph(w, r)
	case s.tokens.matches(p):
		s.tokens.ServeHTTP(w, r)
	default:
		s.serveUnknownVersion(w, r)
	}
}

// newID returns a deterministic GUID-shaped identifier. Callers hold s.mu.
func (s *Server) newID() string {
	a, b := s.rng.Uint64(), s.rng.Uint64()
	return formatGUID(a, b)
}

func formatGUID(a, b uint64) string {
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", uint32(a>>32), uint16(a>>16), uint16(a)&0x0fff,
		(uint16(b>>48)&0x3fff)|0x8000, b&0xffffffffffff)
}
