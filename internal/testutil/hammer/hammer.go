// Package hammer runs request/answer checks over and over, one after
// another and from several goroutines at once, for the tests that a
// connection pool never hands one request's leftovers to another. It is
// test code only: nothing in the data path imports it.
package hammer

import (
	"sync"
	"testing"
)

// Check sends one request for path and says what was wrong with the
// answer (nil: it was want).
type Check func(path, want string) error

// Pairs runs every pair (path, want) in order, seq times in a row, then
// each times from each of workers goroutines; every error fails t.
func Pairs(t testing.TB, check Check, pairs [][2]string, seq, workers, each int) {
	t.Helper()
	run := func() error {
		for _, pw := range pairs {
			if err := check(pw[0], pw[1]); err != nil {
				return err
			}
		}
		return nil
	}
	for i := 0; i < seq; i++ {
		if err := run(); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := run(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
