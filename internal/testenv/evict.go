package testenv

// evictBuffer is larger than the last-level cache of any machine this
// project has been measured on (32 MiB).
var evictBuffer []byte

// EvictCaches writes one byte of every 64-byte line of a 64 MiB buffer,
// which leaves no line of anything else in any cache level: the state a
// request finds on a loaded machine, where nginx, k6, the other API and
// the kernel have run since this process last ran. Cold-cache benchmarks
// call it, untimed, before each operation.
func EvictCaches() {
	if evictBuffer == nil {
		evictBuffer = make([]byte, 64<<20)
	}
	for i := 0; i < len(evictBuffer); i += 64 {
		evictBuffer[i]++
	}
}
