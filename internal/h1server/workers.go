package h1server

import "time"

// Goroutines that served a connection are kept for the next one for a
// while: a fresh goroutine starts with a small stack and grows it (copying
// it twice or three times) through the handler's first request, which
// showed as ~6% of the CPU of a new connection per request. A connection
// accepted, or woken from parking, goes to an idle worker when one waits,
// else to a new goroutine; a worker idle for workerIdle exits, so that a
// burst leaves no standing goroutines behind.
const workerIdle = time.Second

// run serves c on an idle worker or a new goroutine.
func (s *Server) run(c *conn) {
	s.initWork()
	select {
	case s.work <- c:
	default:
		go s.worker(c)
	}
}

func (s *Server) worker(c *conn) {
	t := time.NewTimer(workerIdle)
	defer t.Stop()
	for {
		c.serve()
		c = nil
		t.Reset(workerIdle)
		select {
		case c = <-s.work:
		case <-t.C:
			return
		case <-s.workDone:
			return // the server closed: nothing more will come
		}
	}
}

func (s *Server) initWork() {
	s.workOnce.Do(func() { s.work, s.workDone = make(chan *conn), make(chan struct{}) })
}

// stopWorkers lets idle workers go at once when the server closes,
// instead of after workerIdle.
func (s *Server) stopWorkers() {
	s.initWork()
	s.stopOnce.Do(func() { close(s.workDone) })
}
