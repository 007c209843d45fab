package health

import "sync"

// state is one health_check's view of one server: its counters and
// verdict. It outlives reloads (see Checker.Start).
type state struct {
	mu         sync.Mutex
	down       bool // the verdict: unhealthy (or checking)
	checking   bool // mandatory and not checked yet
	running    bool // a check is in flight: the next round skips it
	failsRow   int  // failed checks in a row
	passesRow  int  // passed checks in a row
	checks     uint64
	fails      uint64
	unhealthy  uint64
	lastPassed bool
}

func (s *state) healthy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.down
}

// record applies one check's outcome with fails= and passes= and returns
// the verdict after it. A server in "checking" is decided by its first
// check, as in NGINX Plus.
func (s *state) record(ok bool, fails, passes int) (healthy, changed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	was := !s.down
	defer func() { changed = was != healthy }()
	s.checks++
	s.lastPassed = ok
	if ok {
		s.passesRow++
		s.failsRow = 0
		if s.checking || (s.down && s.passesRow >= passes) {
			s.down = false
		}
	} else {
		s.fails++
		s.failsRow++
		s.passesRow = 0
		if s.checking || (!s.down && s.failsRow >= fails) {
			if !s.down || s.checking {
				s.unhealthy++
			}
			s.down = true
		}
	}
	s.checking = false
	return !s.down, false
}

// isChecking and isDown read under the state's own lock: a check in
// flight records into it while a round reads it.
func (s *state) isChecking() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checking
}

func (s *state) isDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

// begin marks a check in flight; false means the previous one still is.
func (s *state) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return false
	}
	s.running = true
	return true
}

func (s *state) end() {
	s.mu.Lock()
	s.running = false
	s.mu.Unlock()
}
