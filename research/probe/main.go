// Command probe measures what this machine costs a request before any of
// fraudknn's code runs, so that latency figures can be read against it:
//
//	go -C research run ./probe
//
// It reports three things. The round trip of a few bytes between two
// processes over a Unix socket, at several request rates: every request
// through the stack makes two such round trips at least (client and
// balancer, balancer and API). How much time a busy loop loses to the
// kernel and the hypervisor: a loop that reads the clock without pause
// and counts the gaps, which decide the p99 of any short task. And what
// reading memory costs (memory.go): the rate at which one core reads a
// buffer larger than the caches, which bounds how fast a search that
// reads a given number of cache lines can be, and the latency of a load
// by working-set size, which shows how much the caches really hold.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

func main() {
	if path := os.Getenv(echoEnv); path != "" {
		serveEcho(path)
		return
	}
	seconds := flag.Float64("seconds", 3, "length of each measurement")
	memMiB := flag.Int("memory-mib", 256, "size of the buffer the memory measurements read, in MiB (0: skip them)")
	flag.Parse()
	if *memMiB < 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: probe [-seconds S] [-memory-mib M]")
		os.Exit(2)
	}
	d := time.Duration(*seconds * float64(time.Second))
	if err := roundTrips(os.Stdout, d); err != nil {
		fmt.Fprintf(os.Stderr, "probe: %v\n", err)
		os.Exit(1)
	}
	gaps(os.Stdout, d)
	if *memMiB > 0 {
		if err := memory(os.Stdout, *memMiB<<20); err != nil {
			fmt.Fprintf(os.Stderr, "probe: %v\n", err)
			os.Exit(1)
		}
	}
}

// echoEnv names the socket on which a copy of this program, started by
// roundTrips, serves as the echo process.
const echoEnv = "FRAUDKNN_PROBE_ECHO"

// serveEcho answers every read on the socket's one connection with the
// same bytes.
func serveEcho(path string) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "probe: echo: %v\n", err)
		os.Exit(1)
	}
	c, err := ln.Accept()
	if err != nil {
		fmt.Fprintf(os.Stderr, "probe: echo: %v\n", err)
		os.Exit(1)
	}
	buf := make([]byte, 64)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}

// roundTrips starts an echo process and times round trips to it, one
// every gap, for each gap, and writes a line per gap to w.
func roundTrips(w io.Writer, d time.Duration) error {
	dir, err := os.MkdirTemp("", "probe")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "echo.sock")
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), echoEnv+"="+path)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	var c net.Conn
	for deadline := time.Now().Add(5 * time.Second); ; {
		if c, err = net.Dial("unix", path); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the echo process did not listen: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer c.Close()
	buf := make([]byte, 64)
	for _, gap := range []time.Duration{100 * time.Microsecond, time.Millisecond, 10 * time.Millisecond} {
		n := max(int(d/gap), 1)
		times := make([]time.Duration, 0, n)
		for i := 0; i < n; i++ {
			t0 := time.Now()
			if _, err := c.Write(buf[:10]); err != nil {
				return err
			}
			if _, err := c.Read(buf); err != nil {
				return err
			}
			times = append(times, time.Since(t0))
			time.Sleep(gap)
		}
		slices.Sort(times)
		fmt.Fprintf(w, "unix-socket round trip between two processes, one every %v: p50 %v, p99 %v, p99.9 %v, max %v (%d round trips)\n",
			gap, round(times[n/2]), round(times[n*99/100]), round(times[n*999/1000]), round(times[n-1]), n)
	}
	return nil
}

// gaps reads the clock in a loop for d and reports the pauses over
// minPause, time the loop did not run, in a line written to w.
func gaps(w io.Writer, d time.Duration) {
	pauses, elapsed := measurePauses(d)
	reportPauses(w, pauses, elapsed)
}

// minPause is the shortest gap between two clock readings of the busy
// loop that counts as a pause.
const minPause = 5 * time.Microsecond

// measurePauses reads the clock in a loop for at least d and returns the
// gaps between consecutive readings longer than minPause, and the time
// the loop ran.
func measurePauses(d time.Duration) (pauses []time.Duration, elapsed time.Duration) {
	start := time.Now()
	last := start
	for last.Sub(start) < d {
		now := time.Now()
		if g := now.Sub(last); g > minPause {
			pauses = append(pauses, g)
		}
		last = now
	}
	return pauses, last.Sub(start)
}

// reportPauses writes a line that summarises pauses found over elapsed:
// how many, how often, the share of the time lost, and their p50, p99
// and maximum. It sorts pauses.
func reportPauses(w io.Writer, pauses []time.Duration, elapsed time.Duration) {
	if len(pauses) == 0 {
		fmt.Fprintf(w, "busy loop: no pause over %v in %v\n", minPause, round(elapsed))
		return
	}
	var lost time.Duration
	for _, p := range pauses {
		lost += p
	}
	slices.Sort(pauses)
	n := len(pauses)
	fmt.Fprintf(w, "busy loop: %d pauses over %v in %v (one every %v), %.1f%% of the time lost; pauses p50 %v, p99 %v, max %v\n",
		n, minPause, round(elapsed), round(elapsed/time.Duration(n)), 100*float64(lost)/float64(elapsed),
		round(pauses[n/2]), round(pauses[n*99/100]), round(pauses[n-1]))
}

func round(d time.Duration) time.Duration {
	if d > time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(100 * time.Nanosecond)
}
