package upstream

// ipHashPick is nginx's ip_hash (ngx_http_upstream_ip_hash_module.c):
// starting from 89, hash = (hash*113 + byte) % 6271 over the first three
// octets of an IPv4 client or all sixteen bytes of an IPv6 one; the hash
// modulo the total weight (down servers included) lands on a server by
// walking the servers by weight. An ineligible server rehashes from the
// running value; after 20 tries, or with fewer than two servers, it falls
// back to round-robin. The running hash is kept in Tried, so a retry of
// the same request continues the sequence, as nginx's iphp->hash does.
// Lock-free.
func ipHashPick(c *pickCtx, s *peerSet) *Peer {
	t := c.t
	if t.tries > 20 || len(s.peers) < 2 {
		return rrFallback(c, s, "ip_hash after 20 tries")
	}
	var b4 [4]byte
	var b16 [16]byte
	var addr []byte
	switch a := c.addr; {
	case a.Is4():
		b4 = a.As4()
		addr = b4[:3]
	case a.Is6():
		b16 = a.As16()
		addr = b16[:]
	default:
		addr = b4[:3] // nginx's pseudo address {0, 0, 0}
	}
	hash := t.hash
	for {
		for _, x := range addr {
			hash = (hash*113 + uint32(x)) % 6271
		}
		p := s.peers[s.find(int64(hash)%s.total)]
		if c.usable(p) {
			t.hash = hash
			if c.ex != nil {
				c.ex.Score = "hash=" + itoa(int64(hash))
			}
			return p
		}
		t.tries++
		if t.tries > 20 {
			return rrFallback(c, s, "ip_hash after 20 tries")
		}
	}
}
