package health

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"bunsan/internal/config"
)

// maxExpect bounds what a stream check reads while waiting for expect.
const maxExpect = 4 << 10

// probeTCP connects; with a match block it sends send= and reads until
// expect matches, the server closes, or the timeout.
func probeTCP(ctx context.Context, c *config.HealthCheck, addr string) error {
	ctx, cancel := deadline(ctx, c)
	defer cancel()
	d := net.Dialer{Timeout: c.ConnectTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	m := c.MatchBlock
	if m == nil {
		return nil
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conn.SetDeadline(readDeadline(c))
	if len(m.Send) > 0 {
		if _, err := conn.Write(m.Send); err != nil {
			return fmt.Errorf("send: %w", err)
		}
	}
	if len(m.Expect) == 0 && m.ExpectRe == nil {
		return nil
	}
	var got []byte
	buf := make([]byte, 1024)
	for len(got) < maxExpect {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if expectMet(m, got) {
			return nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("closed before %q matched (got %q)", m.Name, trim(got))
			}
			return fmt.Errorf("waiting for %q: %w", m.Name, err)
		}
		if len(m.Expect) > 0 && len(got) >= len(m.Expect) {
			break
		}
	}
	return fmt.Errorf("answer %q does not match %q", trim(got), m.Name)
}

// expectMet reports whether data read so far satisfies expect: the
// literal at its start, or the regular expression anywhere.
func expectMet(m *config.Match, got []byte) bool {
	if m.ExpectRe != nil {
		return m.ExpectRe.Match(got)
	}
	return bytes.HasPrefix(got, m.Expect)
}

func trim(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// probeUDP sends send= and waits for one datagram. With expect it must
// match; with no expect, silence until the timeout passes (UDP has no
// handshake) and only an ICMP "port unreachable" fails, as in NGINX Plus.
func probeUDP(ctx context.Context, c *config.HealthCheck, addr string) error {
	ctx, cancel := deadline(ctx, c)
	defer cancel()
	d := net.Dialer{Timeout: c.ConnectTimeout}
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	m := c.MatchBlock
	send := []byte{}
	if m != nil {
		send = m.Send
	}
	conn.SetDeadline(readDeadline(c))
	if _, err := conn.Write(send); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	buf := make([]byte, 64<<10)
	n, err := conn.Read(buf)
	expect := m != nil && (len(m.Expect) > 0 || m.ExpectRe != nil)
	if err != nil {
		if !expect && errors.Is(err, os.ErrDeadlineExceeded) {
			return nil
		}
		return err
	}
	if expect && !expectMet(m, buf[:n]) {
		return fmt.Errorf("answer %q does not match %q", trim(buf[:n]), m.Name)
	}
	return nil
}
