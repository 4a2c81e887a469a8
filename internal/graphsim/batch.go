package graphsim

func (s *Server) batchRoutes() {}
