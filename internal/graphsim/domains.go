package graphsim

func (s *Server) domainRoutes() {}
