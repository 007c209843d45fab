package upstream

// hashPick is nginx's "hash KEY" (ngx_http_upstream_get_hash_peer in
// ngx_http_upstream_hash_module.c), compatible with Cache::Memcached:
// each try adds ((crc32([REHASH] KEY) >> 16) & 0x7fff) to a running sum,
// REHASH being the try number in decimal, omitted on the first; the sum
// modulo the total weight (down servers included) lands on a server by
// weight. An ineligible server means the next try; after 20 tries, with
// fewer than two servers or with an empty key, round-robin. The sum and
// the try number live in Tried, so retries continue the sequence.
// Lock-free.
func hashPick(c *pickCtx, s *peerSet) *Peer {
	t := c.t
	key := c.key
	if t.tries > 20 || len(s.peers) < 2 || len(key) == 0 {
		return rrFallback(c, s, hashFallbackReason(t, key))
	}
	for {
		h := crcUpdate(crcDecimal(t.rehash), key)
		t.hash += (h >> 16) & 0x7fff
		t.rehash++
		p := s.peers[s.find(int64(uint64(t.hash)%uint64(s.total)))]
		if c.usable(p) {
			if c.ex != nil {
				c.ex.Score = "hash=" + itoa(int64(t.hash)) + " rehash=" + itoa(int64(t.rehash-1))
			}
			return p
		}
		t.tries++
		if t.tries > 20 {
			return rrFallback(c, s, "hash after 20 tries")
		}
	}
}

func hashFallbackReason(t *Tried, key []byte) string {
	if len(key) == 0 {
		return "empty hash key"
	}
	if t.tries > 20 {
		return "hash after 20 tries"
	}
	return "fewer than two servers"
}

// crcDecimal is the CRC-32 of n written in decimal, "" for 0 (nginx
// omits REHASH on the first try).
func crcDecimal(n uint32) uint32 {
	if n == 0 {
		return 0
	}
	var d [10]byte
	i := len(d)
	for ; n > 0; n /= 10 {
		i--
		d[i] = byte('0' + n%10)
	}
	return crcUpdate(0, d[i:])
}
