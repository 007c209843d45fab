package upstream

import (
	"cmp"
	"encoding/binary"
	"hash/crc32"
	"math"
	"slices"
	"strings"
)

// chashPoint is one point of the ketama ring: its hash and the server
// (index in the primary set) it belongs to.
type chashPoint struct {
	hash uint32
	peer int32
}

// buildRing builds nginx's ketama ring (ngx_http_upstream_update_chash,
// compatible with Cache::Memcached::Fast): for each server, 160 points
// per unit of weight; the server's address text is split into HOST and
// PORT (a "unix:" path is all host; a trailing ":digits" is the port);
// base = crc32(HOST "\0" PORT) and point j = crc32 continued from base
// over the previous point's hash as 4 little-endian bytes (0 for the
// first). Points are sorted by hash and equal hashes keep the first
// (nginx uses qsort; the stable sort here agrees with glibc's merge sort).
// Down servers keep their points, as in nginx.
func buildRing(peers []*Peer) []chashPoint {
	n := 0
	for _, p := range peers {
		n += int(p.weight) * 160
	}
	pts := make([]chashPoint, 0, n)
	for i, p := range peers {
		host, port := ketamaHostPort(p.hashName())
		base := crc32.Update(0, crc32.IEEETable, []byte(host))
		base = crc32.Update(base, crc32.IEEETable, []byte{0})
		base = crc32.Update(base, crc32.IEEETable, []byte(port))
		var prev [4]byte
		for j := int64(0); j < p.weight*160; j++ {
			h := crc32.Update(base, crc32.IEEETable, prev[:])
			pts = append(pts, chashPoint{hash: h, peer: int32(i)})
			binary.LittleEndian.PutUint32(prev[:], h)
		}
	}
	slices.SortStableFunc(pts, func(a, b chashPoint) int { return cmp.Compare(a.hash, b.hash) })
	return slices.CompactFunc(pts, func(a, b chashPoint) bool { return a.hash == b.hash })
}

// ketamaHostPort splits a server's text as nginx's init_chash does.
func ketamaHostPort(s string) (host, port string) {
	if len(s) >= 5 && strings.EqualFold(s[:5], "unix:") {
		return s[5:], ""
	}
	for j := 0; j < len(s); j++ {
		c := s[len(s)-j-1]
		if c == ':' {
			return s[:len(s)-j-1], s[len(s)-j:]
		}
		if c < '0' || c > '9' {
			break
		}
	}
	return s, ""
}

// findPoint is nginx's ngx_http_upstream_find_chash_point: the first
// point whose hash is >= h (len(ring) past the end, which wraps to 0).
func findPoint(ring []chashPoint, h uint32) uint32 {
	i, j := 0, len(ring)
	for i < j {
		k := (i + j) / 2
		switch {
		case h > ring[k].hash:
			i = k + 1
		case h < ring[k].hash:
			j = k
		default:
			return uint32(k)
		}
	}
	return uint32(i)
}

// chashPick is nginx's "hash KEY consistent" (ngx_http_upstream_get_chash_peer):
// binary search for the first ring point at or after crc32(KEY), then
// walk the ring while the point's server is ineligible; after 20 points,
// with fewer than two servers or with an empty key, round-robin. The ring
// position lives in Tried, so a retry continues from it. Lock-free.
//
// With balance_factor (beyond nginx: consistent hashing with bounded
// loads, Mirrokni et al. 2016) a server is also passed over while its
// active connections have reached ceil(factor × (in-flight on the group
// + 1) / servers up), so no server carries more than factor times the
// average; such skips walk on without counting toward the 20 tries.
func chashPick(c *pickCtx, s *peerSet) *Peer {
	t := c.t
	g := c.g
	key := c.key
	if t.tries > 20 || len(s.peers) < 2 || len(key) == 0 {
		return rrFallback(c, s, hashFallbackReason(t, key))
	}
	ring := s.ring
	if t.rehash == 0 { // first pick of the request (nginx: init_chash_peer)
		t.hash = findPoint(ring, crcUpdate(0, key))
		t.rehash = 1
	}
	limit := int64(-1)
	if g.bound > 0 {
		avg := float64(g.gs.inflight.Load()+1) / float64(max(s.nUp, 1))
		limit = int64(math.Ceil(g.bound * avg))
	}
	for walked := 0; ; walked++ {
		pt := ring[t.hash%uint32(len(ring))]
		p := s.peers[pt.peer]
		if c.usable(p) {
			if limit < 0 || p.st.conns.Load() < limit {
				// nginx runs round-robin among the servers sharing the
				// point's name; for one server only the effective-weight
				// recovery remains.
				if ew := p.st.eff.Load(); ew < p.weight {
					p.st.eff.CompareAndSwap(ew, ew+1)
				}
				if c.ex != nil {
					c.ex.Score = "point=" + itoa(int64(t.hash%uint32(len(ring)))) + " point_hash=" + itoa(int64(pt.hash))
					if limit >= 0 {
						c.ex.Score += " limit=" + itoa(limit)
					}
				}
				return p
			}
			c.skip(p, SkipOverloaded)
			t.hash++
			if walked > len(ring) {
				return rrFallback(c, s, "every server above balance_factor")
			}
			continue
		}
		t.hash++
		t.tries++
		if t.tries > 20 {
			return rrFallback(c, s, "hash after 20 tries")
		}
	}
}

// hashName is the text consistent hashing hashes: the address exactly as
// written in the configuration.
func (p *Peer) hashName() string { return p.name }
