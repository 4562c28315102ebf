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

	Handed  atomic.Int64 // connections handed to an API
	Dropped atomic.Int64 // connections closed because no API registered within Wait
}

// DefaultWait is a new Balancer's Wait.
const DefaultWait = 10 * time.Second

// NewBalancer returns a Balancer with no API registered.
func NewBalancer(logger *log.Logger) *Balancer {
	if logger == nil {
		logger = log.New(os.Stderr, "", log.LstdFlags)
	}
	return &Balancer{log: logger, Wait: DefaultWait}
}

// APIs returns how many APIs are registered.
func (b *Balancer) APIs() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.apis)
}

// ServeControl accepts API registrations on ln until ln is closed.
func (b *Balancer) ServeControl(ln *net.UnixListener) error {
	for {
		c, err := ln.AcceptUnix()
		if err != nil {
			return err
		}
		b.mu.Lock()
		b.apis = append(b.apis, c)
		n := len(b.apis)
		if b.registered != nil {
			close(b.registered) // wakes the connections waiting for an API
			b.registered = nil
		}
		b.mu.Unlock()
		b.log.Printf("an API registered; %d registered", n)
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
}

// Receive registers at the balancer's control socket path, dialling
// again every 100 ms until it answers and whenever the connection drops,
// until Close.
func Receive(path string, logger *log.Logger) *Receiver {
	if logger == nil {
		logger = log.New(os.Stderr, "", log.LstdFlags)
	}
	r := &Receiver{path: path, conns: make(chan net.Conn, 1024), done: make(chan struct{}), log: logger}
	go r.loop()
	return r
}

func (r *Receiver) loop() {
	waiting := false
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
		err = r.read(c)
		c.Close()
		select {
		case <-r.done:
			return
		default:
		}
		r.log.Printf("fdpass: lost the balancer (%v); dialling again", err)
		time.Sleep(100 * time.Millisecond)
	}
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
