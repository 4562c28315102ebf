package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress prints the phase, percent done, elapsed time and an estimate of
// the time left, at most once a second per phase. It is safe for
// concurrent use: k-means workers report from their goroutines.
type progress struct {
	mu         sync.Mutex
	w          io.Writer
	start      time.Time
	phase      string
	phaseStart time.Time
	last       time.Time
}

func newProgress(w io.Writer, start time.Time) *progress {
	return &progress{w: w, start: start}
}

func (p *progress) report(phase string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if phase != p.phase {
		p.phase, p.phaseStart, p.last = phase, now, time.Time{}
	}
	if now.Sub(p.last) < time.Second || total <= 0 {
		return
	}
	p.last = now
	frac := float64(done) / float64(total)
	eta := "?"
	if frac > 0.01 {
		eta = fmt.Sprintf("%.0fs", now.Sub(p.phaseStart).Seconds()*(1-frac)/frac)
	}
	fmt.Fprintf(p.w, "indexer: %6.1fs  %-12s %3.0f%%  ETA %s\n", now.Sub(p.start).Seconds(), phase, 100*frac, eta)
}

func (p *progress) done(phase, what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "indexer: %6.1fs  %-12s done: %s\n", time.Since(p.start).Seconds(), phase, what)
	p.phase = ""
}
