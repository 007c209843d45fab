//go:build !linux

package h1server

// Without epoll an idle connection keeps its goroutine (and buffers).
func (s *Server) park(c *conn) bool { return false }
func (s *Server) stopParker()       {}

type parker struct{}

func (s *Server) parkedCount() int { return 0 }
