package tlsconf

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"os"
	"time"

	"bunsan/internal/config"
)

// sessionStamp marks the Extra entry that holds a ticket's issue time.
const sessionStamp = "bunsan-issued:"

// limitSessionAge makes resumption honour ssl_session_timeout. Go's server
// resumes by session tickets only and accepts them for up to seven days;
// nginx's default is five minutes. The issue time rides inside the
// encrypted ticket, and an older ticket means a full handshake.
// now is the clock, injected by tests.
func limitSessionAge(cfg *tls.Config, timeout time.Duration, now func() time.Time) {
	cfg.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
		stamp := binary.BigEndian.AppendUint64([]byte(sessionStamp), uint64(now().Unix()))
		ss.Extra = append(ss.Extra, stamp)
		return cfg.EncryptTicket(cs, ss)
	}
	cfg.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		ss, err := cfg.DecryptTicket(identity, cs)
		if err != nil || ss == nil {
			return nil, err
		}
		for _, e := range ss.Extra {
			if len(e) == len(sessionStamp)+8 && string(e[:len(sessionStamp)]) == sessionStamp {
				issued := time.Unix(int64(binary.BigEndian.Uint64(e[len(sessionStamp):])), 0)
				if now().Sub(issued) <= timeout {
					return ss, nil
				}
			}
		}
		return nil, nil // expired or not ours: a full handshake
	}
}

// ticketKeys reads ssl_session_ticket_key files. Go's keys are 32 bytes
// and nginx's files 48 or 80, so each file is hashed to a key: the same
// file gives the same key in every bunsan that reads it.
func ticketKeys(files []config.File) ([][32]byte, error) {
	var out [][32]byte
	for _, f := range files {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: cannot read session ticket key: %v", f.Pos.File, f.Pos.Line, err)
		}
		out = append(out, sha256.Sum256(b))
	}
	return out, nil
}
