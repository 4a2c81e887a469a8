package graphsim

func (s *Server) mailRoutes() {}
