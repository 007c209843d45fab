package stream

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// spliceChunk bounds one ReadFrom call of the splice path. Between calls
// the direction reports its progress and re-arms the idle deadline; the
// runtime splices up to 1 MiB per system call inside one call.
const spliceChunk = 4 << 20

// end says why a direction of a session stopped.
type end int

const (
	endEOF   end = iota // the source half-closed (or closed) cleanly
	endIdle             // no bytes either way for proxy_timeout
	endError            // read or write failed, or the session was closed
)

// conn is what a side of a session must offer: a net.Conn that can
// half-close. *net.TCPConn and *tls.Conn both do.
type conn interface {
	net.Conn
	CloseWrite() error
}

// duplex copies bytes both ways between a client and a backend, as
// nginx's ngx_stream_proxy_process does, until both directions end, one
// fails, or nothing moves either way for the idle timeout.
//
// Idle detection without wrapping the connections: each direction arms a
// read deadline of one timeout on its source. When it fires with nothing
// read, the direction checks the session's last progress; if the other
// direction may have moved bytes it has not reported yet (it reports
// only between ReadFrom calls), it asks it to report now by setting that
// direction's read deadline to the past, and waits for the answer.
type duplex struct {
	timeout   time.Duration
	halfClose bool
	clock     func() time.Time

	active atomic.Int64 // unix ns of the last progress either way
	asking atomic.Int32 // 0, or 1+index of the direction that is asking
	ack    [2]chan struct{}
	done   [2]chan struct{}

	closeOnce sync.Once
	closeAll  func()
}

// direction is one way of a duplex: bytes from src to dst.
type direction struct {
	d       *duplex
	i       int // 0: client to backend (upload), 1: backend to client
	dst     conn
	src     conn
	limiter *limiter // nil: no rate limit
	buf     []byte   // for the buffered path
	n       int64    // bytes moved
	// firstByte, when set, is called once with the time the first byte
	// arrived ($upstream_first_byte_time, least_time first_byte). On the
	// splice path the first ReadFrom is then limited to one byte, the
	// only way to see when it came.
	firstByte func(time.Time)
	end       end
	err       error
}

// splices reports whether a direction can move bytes with splice(2).
func (dr *direction) splices() bool {
	_, a := dr.src.(*net.TCPConn)
	_, b := dr.dst.(*net.TCPConn)
	return a && b && dr.limiter == nil
}

// step moves one chunk and returns how many bytes it moved.
// The idle deadline is armed here, after any wait for the rate limit, so
// that a slow rate is not taken for idleness.
func (dr *direction) step(lr *io.LimitedReader) (int64, error) {
	if dr.splices() {
		dr.arm()
		lr.R, lr.N = dr.src, spliceChunk
		if dr.firstByte != nil && dr.n == 0 {
			lr.N = 1
		}
		n, err := dr.dst.(*net.TCPConn).ReadFrom(lr)
		if err == nil && lr.N > 0 {
			err = io.EOF // ReadFrom stops early only at end of input
		}
		return n, err
	}
	buf := dr.buf
	if dr.limiter != nil {
		buf = buf[:dr.limiter.take(len(buf))]
	}
	dr.arm()
	n, err := dr.src.Read(buf)
	if n > 0 {
		if _, werr := dr.dst.Write(buf[:n]); werr != nil {
			return int64(n), werr
		}
		if dr.limiter != nil {
			dr.limiter.spent(n)
		}
	}
	return int64(n), err
}

// arm sets the idle deadline of one read.
func (dr *direction) arm() {
	if t := dr.d.timeout; t > 0 {
		dr.src.SetReadDeadline(dr.d.clock().Add(t))
	}
}

func (d *duplex) touch() { d.active.Store(d.clock().UnixNano()) }

func (d *duplex) recent() bool {
	return d.clock().UnixNano()-d.active.Load() < int64(d.timeout)
}

// run copies until the session ends and returns the directions.
func (d *duplex) run(up, down *direction) {
	d.ack = [2]chan struct{}{make(chan struct{}, 1), make(chan struct{}, 1)}
	d.done = [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	d.touch()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); d.copy(down, up) }()
	d.copy(up, down)
	wg.Wait()
}

// copy runs one direction; other is the opposite one.
func (d *duplex) copy(dr, other *direction) {
	defer close(d.done[dr.i])
	var lr io.LimitedReader
	for {
		d.answer(dr)
		n, err := dr.step(&lr)
		if n > 0 {
			if dr.n == 0 && dr.firstByte != nil {
				dr.firstByte(d.clock())
			}
			d.touch()
		}
		dr.n += n
		switch {
		case err == nil:
			continue
		case errors.Is(err, os.ErrDeadlineExceeded) && d.timeout > 0:
			if n > 0 || d.answer(dr) || d.recent() || d.askOther(dr, other) {
				continue
			}
			dr.end = endIdle
			d.close()
			return
		case err == io.EOF:
			dr.end = endEOF
			if !d.halfClose {
				// nginx's default (proxy_half_close off): the first side
				// to finish ends the session, so a client that goes
				// away frees its backend connection at once.
				d.close()
				return
			}
			dr.dst.CloseWrite()
			select {
			case <-d.done[other.i]:
				d.close()
			default:
			}
			return
		default:
			dr.end, dr.err = endError, err
			d.close()
			return
		}
	}
}

// answer reports to the other direction if it is asking, once per ask;
// it says whether it did.
func (d *duplex) answer(dr *direction) bool {
	if !d.asking.CompareAndSwap(int32(2-dr.i), 0) { // the other's index is 1-dr.i
		return false
	}
	d.ack[1-dr.i] <- struct{}{} // buffered: one ask, one answer
	return true
}

// askOther makes the other direction report its progress and says
// whether the session moved within the timeout.
func (d *duplex) askOther(dr, other *direction) bool {
	select {
	case <-d.done[other.i]:
		return false // nothing more will come from it
	default:
	}
	select {
	case <-d.ack[dr.i]: // a late answer to an earlier ask
	default:
	}
	if !d.asking.CompareAndSwap(0, int32(dr.i+1)) {
		// The other is asking us at the same moment: our answer is "idle
		// here"; let it decide.
		d.answer(dr)
		return true
	}
	other.src.SetReadDeadline(time.Unix(1, 0))
	select {
	case <-d.ack[dr.i]:
	case <-d.done[other.i]:
		d.asking.CompareAndSwap(int32(dr.i+1), 0)
	}
	return d.recent()
}

func (d *duplex) close() { d.closeOnce.Do(d.closeAll) }
