package graphsim

import (
	"crypto/rand"
	"crypto/x509"
)

func randRead(b []byte) { _, _ = rand.Read(b) }

func (s *Server) certPool() *x509.CertPool {
	pool := x509.NewCertPool()
	if s.ca != nil {
		pool.AddCert(s.ca.cert)
	}
	return pool
}

// dns returns the simulated public DNS. Callers hold s.mu.
func (s *Server) dns() map[string][]string { return s.dnsTXT }
