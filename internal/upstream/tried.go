package upstream

// Tried is the per-request memory of a sequence of picks: which servers
// were already tried (so a retry asks for the next one, as nginx's
// rrp->tried bitmap does) and the state a method keeps between tries of
// one request (the running hash of ip_hash and hash, the ring position of
// consistent hashing, the tries counter of the 20-tries fallback).
//
// The zero value is ready to use. Groups of up to 64 servers need no
// allocation; for larger groups the bitmap is allocated on the first Pick
// and kept by Reset, so a Tried reused across requests allocates once.
// A Tried belongs to one request and one Group; it is not safe for
// concurrent use.
type Tried struct {
	small uint64
	big   []uint64
	count int
	// sv is the server set the request started on: its retries stay on
	// it even if the API changes the group meanwhile, so the bitmap's
	// positions keep their meaning.
	sv *serverSet

	started bool
	backup  bool   // switched to the backup servers (nginx: rrp->peers = peers->next)
	tries   uint32 // hash, ip_hash, random: failed attempts, >20 means round-robin
	hash    uint32 // hash: running sum; consistent: ring index; ip_hash: running hash
	rehash  uint32 // hash: iteration number mixed into the key
}

// Reset forgets everything, keeping the bitmap's memory for reuse.
func (t *Tried) Reset() {
	big := t.big
	clear(big)
	*t = Tried{big: big[:0]}
}

// Len is the number of servers tried so far.
func (t *Tried) Len() int { return t.count }

// Has reports whether p was already handed out for this request.
func (t *Tried) Has(p *Peer) bool { return t.has(p.index) }

// start prepares the bitmap for the server set sv and the per-method
// initial state on the first pick of a request.
func (t *Tried) start(sv *serverSet, m kind) {
	if t.started {
		return
	}
	t.started = true
	t.sv = sv
	n := len(sv.peers)
	if n > 64 {
		w := (n + 63) / 64
		if cap(t.big) < w {
			t.big = make([]uint64, w)
		} else {
			t.big = t.big[:w]
			clear(t.big)
		}
	}
	if m == kindIPHash {
		t.hash = 89 // nginx: iphp->hash = 89
	}
}

func (t *Tried) has(i int) bool {
	if len(t.big) > 0 {
		return t.big[i>>6]&(1<<(uint(i)&63)) != 0
	}
	return i < 64 && t.small&(1<<uint(i)) != 0
}

func (t *Tried) set(i int) {
	if t.has(i) {
		return
	}
	t.count++
	if len(t.big) > 0 {
		t.big[i>>6] |= 1 << (uint(i) & 63)
		return
	}
	if i < 64 {
		t.small |= 1 << uint(i)
	}
}
