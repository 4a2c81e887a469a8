package graphsim

// admit decides whether a call may run: throttling, injected faults and latency. It runs
// with s.mu held, after routing and authorisation, and answers the call itself when it
// refuses it.
func (s *Server) admit(c *call) bool {
	return true
}

// settle runs after a handler has answered.
func (s *Server) settle(c *call) {}
