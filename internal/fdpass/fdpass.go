// Package fdpass is a load balancer that hands whole client connections
// to the API processes instead of proxying their bytes: the balancer
// accepts a TCP connection and sends its file descriptor to one API over
// a Unix domain socket (SCM_RIGHTS); from then on the API reads the
// requests from, and writes the answers to, the client's socket itself.
// Each request then crosses one socket instead of three, and the balancer
// spends a few microseconds per connection instead of per request.
//
// An API registers by dialling the balancer's control socket once it is
// ready (Receive does that, and dials again when the connection drops);
// the balancer hands connections round robin to the APIs registered.
// While none is, a connection waits (up to Balancer.Wait) for one to
// register, and is closed if none does: the balancer never reads a
// request nor answers one itself, as the contest asks of a load balancer.
// A connection stays with the API it was handed to: if that API dies,
// its clients' connections break, where nginx would retry their requests
// on the other instance.
//
// Whoever registers receives clients' connections and can read and
// answer their requests, so the balancer accepts a registration only
// from a process of the uid it trusts (the kernel's word, SO_PEERCRED),
// and no more registrations than the backends it is configured for.
package fdpass

import (
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Balancer hands accepted connections to registered APIs.
type Balancer struct {
	mu         sync.Mutex
	apis       []*net.UnixConn
	next       int
	registered chan struct{} // closed at the next registration; nil while APIs are registered
	log        *log.Logger

	// Wait is how long a connection waits for an API to register when
	// none is; then it is closed.
	Wait time.Duration

	// TrustUID is the only uid whose processes may register.
	TrustUID int
	// MaxBackends is how many APIs may be registered at once; a slot
	// frees when a registered API's connection closes.
	MaxBackends int

	Handed  atomic.Int64 // connections handed to an API
	Dropped atomic.Int64 // connections closed because no API registered within Wait
	// Refused counts the registrations refused, by reason.
	Refused [numReasons]atomic.Int64
}

// Why a registration is refused.
const (
	RefusedUID   = iota // the peer runs as a uid other than TrustUID
	RefusedFull         // MaxBackends APIs are registered already
	RefusedCreds        // the kernel would not tell who the peer is
	numReasons
)

// ReasonNames name the reasons, in the metrics' reason label.
var ReasonNames = [numReasons]string{"uid", "full", "credentials"}

// DefaultWait is a new Balancer's Wait.
const DefaultWait = 10 * time.Second

// DefaultMaxBackends is a new Balancer's MaxBackends: the two API
// instances of the contest's deployment.
const DefaultMaxBackends = 2

// NewBalancer returns a Balancer with no API registered, trusting the
// uid it runs as.
func NewBalancer(logger *log.Logger) *Balancer {
	if logger == nil {
		logger = log.New(os.Stderr, "", log.LstdFlags)
	}
	return &Balancer{log: logger, Wait: DefaultWait, TrustUID: os.Getuid(), MaxBackends: DefaultMaxBackends}
}

// APIs returns how many APIs are registered.
func (b *Balancer) APIs() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.apis)
}

// ServeControl accepts API registrations on ln until ln is closed.
// A registration is refused (its connection closed at once, before any
// client's connection could reach it, and logged with the peer's pid and
// uid) when the peer does not run as TrustUID or MaxBackends APIs are
// registered already.
func (b *Balancer) ServeControl(ln *net.UnixListener) error {
	for {
		c, err := ln.AcceptUnix()
		if err != nil {
			return err
		}
		cred, err := peerCred(c)
		if err != nil {
			b.refuse(c, RefusedCreds, "cannot read its credentials (%v)", err)
			continue
		}
		if int(cred.Uid) != b.TrustUID {
			b.refuse(c, RefusedUID, "pid %d uid %d: only uid %d may register (-trust-uid)", cred.Pid, cred.Uid, b.TrustUID)
			continue
		}
		n, ok := b.register(c)
		if !ok {
			b.refuse(c, RefusedFull, "pid %d uid %d: %d APIs are registered, as many as -backends allows", cred.Pid, cred.Uid, n)
			continue
		}
		b.log.Printf("an API registered (pid %d uid %d); %d registered", cred.Pid, cred.Uid, n)
		// An API never writes on its control connection: a read returns
		// only when it closes or dies.
		go func() {
			var buf [1]byte
			c.Read(buf[:])
			if b.drop(c) {
				b.log.Printf("an API left; %d registered", b.APIs())
			}
		}()
	}
}

// register adds c to the APIs unless MaxBackends are registered; it
// returns how many are registered then.
func (b *Balancer) register(c *net.UnixConn) (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.apis) >= b.MaxBackends {
		return len(b.apis), false
	}
	b.apis = append(b.apis, c)
	if b.registered != nil {
		close(b.registered) // wakes the connections waiting for an API
		b.registered = nil
	}
	return len(b.apis), true
}

// refuse closes a registration's connection, counts and logs why.
func (b *Balancer) refuse(c *net.UnixConn, reason int, format string, args ...any) {
	c.Close()
	b.Refused[reason].Add(1)
	b.log.Printf("refused a registration: "+format, args...)
}

// peerCred returns the credentials the kernel recorded for the process
// at the other end of c when it connected.
func peerCred(c *net.UnixConn) (*unix.Ucred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	return cred, credErr
}

// drop unregisters c and closes it; it reports whether c was registered.
func (b *Balancer) drop(c *net.UnixConn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, a := range b.apis {
		if a == c {
			b.apis = append(b.apis[:i], b.apis[i+1:]...)
			c.Close()
			return true
		}
	}
	return false
}

// Serve accepts client connections on ln and hands each to an API until
// ln is closed.
func (b *Balancer) Serve(ln *net.TCPListener) error {
	for {
		c, err := ln.AcceptTCP()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		c.SetNoDelay(true)
		b.hand(c)
	}
}

// hand sends c to the next registered API and closes its own copy; with
// none registered, c waits for one in a goroutine of its own.
func (b *Balancer) hand(c *net.TCPConn) {
	if b.send(c) {
		c.Close()
		return
	}
	go b.await(c)
}

// await hands c over once an API registers, or closes it after b.Wait.
func (b *Balancer) await(c *net.TCPConn) {
	deadline := time.NewTimer(b.Wait)
	defer deadline.Stop()
	for {
		if ch := b.waitRegistration(); ch != nil {
			select {
			case <-ch:
			case <-deadline.C:
				b.Dropped.Add(1)
				c.Close()
				return
			}
		}
		if b.send(c) {
			c.Close()
			return
		}
	}
}

// waitRegistration returns a channel closed at the next registration, or
// nil if an API is registered now.
func (b *Balancer) waitRegistration() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.apis) > 0 {
		return nil
	}
	if b.registered == nil {
		b.registered = make(chan struct{})
	}
	return b.registered
}

// send passes c's descriptor to the next registered API, trying each
// once and forgetting those that are gone. It reports false when no API
// is registered; true when c was handed over, or cannot be (then there
// is nothing more to do with it but close it).
func (b *Balancer) send(c *net.TCPConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return true
	}
	for {
		b.mu.Lock()
		if len(b.apis) == 0 {
			b.mu.Unlock()
			return false
		}
		b.next = (b.next + 1) % len(b.apis)
		api := b.apis[b.next]
		b.mu.Unlock()
		var sendErr error
		if err := raw.Control(func(fd uintptr) {
			_, _, sendErr = api.WriteMsgUnix([]byte{0}, syscall.UnixRights(int(fd)), nil)
		}); err != nil {
			return true
		}
		if sendErr == nil {
			b.Handed.Add(1)
			return true
		}
		// The API is gone: forget it and try the next one.
		if b.drop(api) {
			b.log.Printf("handing a connection failed (%v); dropped that API, %d registered", sendErr, b.APIs())
		}
	}
}

// Receiver is a net.Listener whose connections come from a Balancer:
// it registers at the balancer's control socket and turns every
// descriptor it receives into a net.Conn. Serve an HTTP server on it.
type Receiver struct {
	path  string
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	log   *log.Logger

	mu   sync.Mutex
	ctrl *net.UnixConn

	evict evictor
}

// Receive registers at the balancer's control socket path, dialling
// again until it answers and whenever the connection drops, until Close.
func Receive(path string, logger *log.Logger) *Receiver {
	return ReceiveLimited(path, 0, logger)
}

// ReceiveLimited is Receive for a server that serves at most maxConns
// connections at once: near that limit, the receiver closes the
// connections that have been idle longest before it hands over a new one
// (evict.go says how and why). maxConns 0 turns that off.
func ReceiveLimited(path string, maxConns int, logger *log.Logger) *Receiver {
	if logger == nil {
		logger = log.New(os.Stderr, "", log.LstdFlags)
	}
	r := &Receiver{path: path, conns: make(chan net.Conn, 1024), done: make(chan struct{}), log: logger}
	r.evict.max = maxConns
	go r.loop()
	return r
}

// Evicted returns how many idle connections the receiver has closed to
// make room for new ones.
func (r *Receiver) Evicted() int64 { return r.evict.evicted.Load() }

func (r *Receiver) loop() {
	waiting := false
	pause := 100 * time.Millisecond
	for {
		select {
		case <-r.done:
			return
		default:
		}
		c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: r.path, Net: "unix"})
		if err != nil {
			if !waiting {
				r.log.Printf("fdpass: waiting for the balancer at %s (%v)", r.path, err)
				waiting = true
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		waiting = false
		r.mu.Lock()
		select {
		case <-r.done: // closed while dialling
			r.mu.Unlock()
			c.Close()
			return
		default:
		}
		r.ctrl = c
		r.mu.Unlock()
		r.log.Printf("fdpass: registered at the balancer %s", r.path)
		since := time.Now()
		err = r.read(c)
		c.Close()
		select {
		case <-r.done:
			return
		default:
		}
		pause = r.lost(err, time.Since(since), pause)
		time.Sleep(pause)
	}
}

// lost logs the end of a registration that lasted held and returns how
// long to wait before dialling again: 100 ms after a registration that
// lasted, twice the last pause (up to 5 s) after one the balancer closed
// at once, which is how it refuses one.
func (r *Receiver) lost(err error, held, pause time.Duration) time.Duration {
	if held >= time.Second {
		r.log.Printf("fdpass: lost the balancer (%v); dialling again", err)
		return 100 * time.Millisecond
	}
	pause = min(2*pause, 5*time.Second)
	r.log.Printf("fdpass: the balancer closed the registration at once (%v): it refuses a process not of its -trust-uid, or past its -backends; its log says which. Dialling again in %v", err, pause)
	return pause
}

// read receives descriptors on c until it fails.
func (r *Receiver) read(c *net.UnixConn) error {
	buf := make([]byte, 64)
	oob := make([]byte, syscall.CmsgSpace(64*4))
	for {
		_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			return err
		}
		msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return fmt.Errorf("control message: %w", err)
		}
		for _, m := range msgs {
			fds, err := syscall.ParseUnixRights(&m)
			if err != nil {
				continue
			}
			for _, fd := range fds {
				f := os.NewFile(uintptr(fd), "client")
				nc, err := net.FileConn(f)
				f.Close()
				if err != nil {
					r.log.Printf("fdpass: a received descriptor is not a connection: %v", err)
					continue
				}
				r.evict.admit(nc)
				select {
				case r.conns <- nc:
				case <-r.done:
					nc.Close()
					return net.ErrClosed
				}
			}
		}
	}
}

// Accept returns the next connection handed over.
func (r *Receiver) Accept() (net.Conn, error) {
	select {
	case c := <-r.conns:
		return c, nil
	case <-r.done:
		return nil, net.ErrClosed
	}
}

// Close unregisters from the balancer: no new connection arrives, and
// Accept returns net.ErrClosed. Connections already accepted are not
// touched.
func (r *Receiver) Close() error {
	r.once.Do(func() {
		close(r.done)
		r.mu.Lock()
		if r.ctrl != nil {
			r.ctrl.Close()
		}
		r.mu.Unlock()
	})
	return nil
}

// Addr returns the control socket's address.
func (r *Receiver) Addr() net.Addr { return &net.UnixAddr{Name: r.path, Net: "unix"} }
