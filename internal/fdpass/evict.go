package fdpass

import (
	"net"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Behind the balancer, clients talk to the API's HTTP server directly,
// so a client that opens connections and leaves them idle holds the
// server's connection slots; at its limit the server refuses new
// clients. A receiver made by ReceiveLimited, once the server is nearly
// full, closes the connections that have been silent longest before it
// hands the server a new one: idle clients then cannot lock others out,
// and a client whose request is being answered is never cut off.
//
// Which connections are silent is asked of the kernel (TCP_INFO: how long
// ago data was last received and sent; SIOCINQ: unread bytes), and only
// when the server is nearly full, so that serving a request costs nothing
// more. The alternative, a per-client limit in the balancer, cannot be
// kept: once handed over, a connection is the API's alone, and the
// balancer never learns when it closes; nor would a per-address limit
// stop idle clients that come from many addresses.

// IdleTimeout is how long a connection handed over to an API may wait
// for its next request (the API's server for them is set so): a few
// seconds, where behind nginx, which keeps a few connections and reuses
// them, the API's can be long.
const IdleTimeout = 5 * time.Second

const (
	// idleAfter: a connection whose last request was answered this long
	// ago, with nothing unread, is idle (a client about to send its next
	// request is usually quicker).
	idleAfter = 200 * time.Millisecond
	// stalledAfter: a connection that sent nothing for this long is
	// stalled, whatever it was doing: a request half sent (a slow drip),
	// or one whose answer is this late, which this service's never is.
	stalledAfter = time.Second
	// sweepPause: after a sweep that found nothing to close, the next
	// waits this long (every connection is busy: sweeping again at once
	// would only spend the time the server needs).
	sweepPause = 50 * time.Millisecond

	tcpCloseWait = 8 // TCP_CLOSE_WAIT in the kernel's include/net/tcp_states.h
)

// evictor tracks the connections a Receiver handed to the server. Only
// the receiver's reading goroutine uses it.
type evictor struct {
	max       int // the server's connection limit; 0: off
	held      []net.Conn
	lastEmpty time.Time // the last sweep that found nothing to close
	evicted   atomic.Int64
}

// batch is how many connections one sweep closes at most, and so the
// room kept free below the server's limit: the server learns of a
// connection closed here a moment later, and must have a free slot for
// the new one meanwhile. Closing a few at once spreads a sweep's cost
// (a system call or two per connection held) over several new ones.
func (e *evictor) batch() int { return max(1, e.max/32) }

// admit records c, first closing the longest silent connections if the
// server is at its limit less the batch.
func (e *evictor) admit(c net.Conn) {
	if e.max <= 0 {
		return
	}
	if len(e.held) >= e.max-e.batch() && time.Since(e.lastEmpty) >= sweepPause {
		e.sweep()
	}
	e.held = append(e.held, c)
}

// sweep forgets the connections the server has closed and closes up to a
// batch of the silent ones, longest silent first.
func (e *evictor) sweep() {
	type candidate struct {
		c      net.Conn
		silent time.Duration
	}
	var silent []candidate
	live := e.held[:0]
	for _, c := range e.held {
		s, evictable, err := silence(c)
		if err != nil { // closed by the server
			continue
		}
		live = append(live, c)
		if evictable {
			silent = append(silent, candidate{c, s})
		}
	}
	clear(e.held[len(live):])
	e.held = live
	if len(e.held) < e.max-e.batch() {
		return // the server closed enough by itself
	}
	if len(silent) == 0 {
		e.lastEmpty = time.Now()
		return
	}
	slices.SortFunc(silent, func(a, b candidate) int { return int(b.silent - a.silent) })
	closed := map[net.Conn]bool{}
	for _, s := range silent[:min(len(silent), e.batch())] {
		s.c.Close()
		closed[s.c] = true
	}
	e.evicted.Add(int64(len(closed)))
	e.held = slices.DeleteFunc(e.held, func(c net.Conn) bool { return closed[c] })
}

// silence reports how long c has received nothing and whether it may be
// closed: idle (its last request answered, nothing unread, for
// idleAfter), stalled (nothing received for stalledAfter) or its client
// gone. An error means c is closed.
func silence(c net.Conn) (time.Duration, bool, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, false, nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, false, err
	}
	var info *unix.TCPInfo
	var unread int
	var infoErr error
	if err := raw.Control(func(fd uintptr) {
		if info, infoErr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); infoErr == nil {
			unread, infoErr = unix.IoctlGetInt(int(fd), unix.SIOCINQ)
		}
	}); err != nil {
		return 0, false, err
	}
	if infoErr != nil {
		return 0, false, nil // not TCP: leave it alone
	}
	received := time.Duration(info.Last_data_recv) * time.Millisecond
	sent := time.Duration(info.Last_data_sent) * time.Millisecond
	switch {
	case info.State == tcpCloseWait: // the client has closed its end
		return 1 << 62, true, nil
	case unread > 0:
		return received, false, nil
	case received >= stalledAfter:
		return received, true, nil
	case received < idleAfter:
		return received, false, nil
	default:
		return received, answered(info, sent, received), nil
	}
}

// answered reports whether the last data sent on a connection followed
// the last received: its last request was answered. The kernel keeps
// both times in jiffies (1 to 10 ms), so the two often fall in the same
// one; then a connection that has sent something was answered (a client
// that sends its next request within a jiffy of the last answer, which
// the server has not answered for idleAfter, is the rare exception),
// and one that has sent nothing was answered only if it asked nothing
// (the time of its last sending is its opening).
func answered(info *unix.TCPInfo, sent, received time.Duration) bool {
	switch {
	case sent < received:
		return true
	case sent > received:
		return false
	default:
		return info.Bytes_sent > 0 || info.Bytes_received == 0
	}
}
