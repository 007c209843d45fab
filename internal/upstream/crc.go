package upstream

import "hash/crc32"

// crcTables are slicing-by-8 tables of CRC-32 (IEEE), the CRC nginx's
// ngx_crc32 computes. The package computes CRCs on the pick path itself
// because hash/crc32 makes its argument escape, which would move the
// caller's PickRequest and Tried to the heap.
var crcTables = func() (t [8][256]uint32) {
	t[0] = *crc32.IEEETable
	for i := range 256 {
		c := t[0][i]
		for j := 1; j < 8; j++ {
			c = t[0][c&0xff] ^ c>>8
			t[j][i] = c
		}
	}
	return t
}()

// crcUpdate continues a CRC-32 (IEEE) checksum crc over p, with
// crc32.Update's convention: crcUpdate(crc32.ChecksumIEEE(a), b) is the
// checksum of a followed by b.
func crcUpdate(crc uint32, p []byte) uint32 {
	crc = ^crc
	for len(p) >= 8 {
		crc ^= uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24
		crc = crcTables[0][p[7]] ^ crcTables[1][p[6]] ^ crcTables[2][p[5]] ^ crcTables[3][p[4]] ^
			crcTables[4][crc>>24] ^ crcTables[5][crc>>16&0xff] ^ crcTables[6][crc>>8&0xff] ^ crcTables[7][crc&0xff]
		p = p[8:]
	}
	for _, b := range p {
		crc = crcTables[0][byte(crc)^b] ^ crc>>8
	}
	return ^crc
}
