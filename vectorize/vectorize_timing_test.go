package vectorize

import "testing"

func benchmarkVectorize(b *testing.B, body string) {
	buf := []byte(body)
	if _, err := Vectorize(buf); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Vectorize(buf)
	}
}

func BenchmarkVectorize(b *testing.B) {
	b.Run("with_last", func(b *testing.B) { benchmarkVectorize(b, withLast) })
	b.Run("without_last", func(b *testing.B) { benchmarkVectorize(b, example1) })
	b.Run("known_10000", func(b *testing.B) { benchmarkVectorize(b, longKnownMerchants(10000, "MERC-016")) })
}

// BenchmarkVectorizeError measures a refused body: the cost of building
// the *Error.
func BenchmarkVectorizeError(b *testing.B) {
	buf := []byte(with(b, withLast, `"2026-03-11T14:58:35Z"`, `"2026-03-11 14:58:35"`))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Vectorize(buf)
	}
}
