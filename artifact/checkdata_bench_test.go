package artifact

import (
	"hash/crc32"
	"testing"
)

// BenchmarkCheckData is the cost of the digest at start: the checking
// pass over an artifact-sized buffer with the CRC alone (what loading
// did before it computed the digest) and with the CRC and SHA-256.
func BenchmarkCheckData(b *testing.B) {
	data := make([]byte, 100<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	b.Run("crc", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			crc32.Checksum(data[HeaderSize:], castagnoli)
		}
	})
	b.Run("crc+sha256", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			checkData(data)
		}
	})
}
