// Package memlimit fits an API instance's memory to its limit: it reads
// the limit of the cgroup the process runs in (or takes one given), and
// derives from it the Go runtime's memory limit and how many connections
// the instance may serve at once, so that no load, however abusive,
// takes it past its limit. docs/OPERATIONS.md ("Memory") has the
// arithmetic and the measurements behind the constants.
package memlimit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Reserve is what an instance needs besides the artifact and the Go
// heap: its code (about 7 MiB resident), thread stacks, kernel memory
// charged to its cgroup, and room for the page cache its reads bring in.
const Reserve = 16 << 20

// BaseHeap is the Go memory of an instance serving with no connection
// open: the runtime, the searchers, the metrics (about 3 MiB measured).
const BaseHeap = 4 << 20

// PerConn is the most Go memory one connection can hold: a request body
// of up to 64 KiB being read, its read buffer, its request context and
// its goroutine's stack. Measured at about 80 KB per connection holding
// an unfinished 64 KiB body; the rest is room for the garbage collector.
const PerConn = 96 << 10

// MinConns is the fewest connections worth serving: an instance whose
// memory cannot hold this many refuses to start.
const MinConns = 16

// Plan is how an instance divides its memory.
type Plan struct {
	Budget   int64 // all the memory the process may use; 0: unknown
	GoLimit  int64 // the Go runtime's soft limit (math.MaxInt64: none)
	MaxConns int   // connections served at once
	Capped   bool  // MaxConns is below what was asked, to fit the budget
}

// New divides budget (0: unknown) between an artifact of artifactBytes,
// the Reserve and the Go heap, and the Go heap between BaseHeap and at
// most maxConns connections of PerConn each. goLimit, when not 0, is a
// Go memory limit already chosen (GOMEMLIMIT): it is kept, and bounds
// the connections instead. It fails when the budget cannot hold the
// artifact and MinConns connections.
func New(budget, artifactBytes, goLimit int64, maxConns int) (Plan, error) {
	p := Plan{Budget: budget, GoLimit: math.MaxInt64, MaxConns: maxConns}
	if goLimit == 0 && budget > 0 {
		goLimit = budget - artifactBytes - Reserve
		if goLimit < BaseHeap+MinConns*PerConn {
			return p, fmt.Errorf("a memory limit of %s cannot hold the %s artifact, %s for the process and %d connections of %s: raise the limit (the container's, or -memory-limit) to at least %s",
				MiB(budget), MiB(artifactBytes), MiB(Reserve+BaseHeap), MinConns, KiB(PerConn), MiB(artifactBytes+Reserve+BaseHeap+MinConns*PerConn))
		}
	}
	if goLimit > 0 && goLimit < math.MaxInt64 {
		p.GoLimit = goLimit
		fit := int((goLimit - BaseHeap) / PerConn)
		if fit < MinConns {
			return p, fmt.Errorf("a Go memory limit of %s holds %d connections of %s; at least %d are needed: raise GOMEMLIMIT or unset it", MiB(goLimit), max(fit, 0), KiB(PerConn), MinConns)
		}
		if fit < p.MaxConns {
			p.MaxConns, p.Capped = fit, true
		}
	}
	return p, nil
}

// String says what the plan is, for the log.
func (p Plan) String() string {
	if p.GoLimit == math.MaxInt64 {
		return fmt.Sprintf("no memory limit known: no Go memory limit, %d connections at most", p.MaxConns)
	}
	s := fmt.Sprintf("Go memory limit %s, %d connections at most (%s each)", MiB(p.GoLimit), p.MaxConns, KiB(PerConn))
	if p.Budget > 0 {
		s = fmt.Sprintf("memory limit %s: ", MiB(p.Budget)) + s
	}
	return s
}

// MiB and KiB format a byte count.
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
func KiB(b int64) string { return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10)) }

// Parse reads a memory size as Compose writes one: bytes, or a number
// with a unit k, m, g (or KB, MB, GB, KiB, MiB, GiB), all powers of 1024:
// Compose reads "160MB" as 160·2^20 bytes, and so does Parse, so that a
// figure from a compose file means the same here.
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	num := strings.TrimRightFunc(t, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToLower(strings.TrimSpace(t[len(num):]))
	mult := map[string]int64{"": 1, "b": 1,
		"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
		"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || mult == 0 || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is not a memory size: write bytes, or a number with k, m, g (or KB, MiB...: Compose's units, powers of 1024)", s)
	}
	return n * mult, nil
}
