package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"fraudknn/artifact"
	"fraudknn/harness/internal/loadtest"
	"fraudknn/harness/internal/stack"
	"fraudknn/internal/decision"
	"fraudknn/internal/payloads"
	"fraudknn/internal/refs"
	"fraudknn/knn"
	"fraudknn/vector"
	"fraudknn/vectorize"
)

// The reindex drill: under constant load, the stack's index is replaced
// by one built from the same references with the labels of a region
// flipped (every reference whose coordinate -flip-dim is at least
// -flip-min). The load sends only the payloads whose decision the flip
// changes, each expecting its answer under the old index, so every answer
// says which index gave it: k6's "right" answers (tp, tn) are the old
// index's, its "wrong" ones (fp, fn) the new one's. Before the update, a
// corrupt and a truncated artifact are offered and must be refused with
// nothing changed.

// drill is what the reindex drill prepared before the stack starts.
type drill struct {
	next, corrupt, truncated string // artifacts
	payloads                 string // the changed payloads, expecting the old answers
	flipped, changed, total  int
}

// prepareReindex writes the flipped references, indexes them with the
// indexer, finds the payloads whose decision changes by searching both
// artifacts in process, and writes the two bad artifacts.
func prepareReindex(logger *log.Logger, c config, payloads, dir string) (*drill, error) {
	d := &drill{next: filepath.Join(dir, "index.next.fknn"), payloads: filepath.Join(dir, "payloads.changed.json"),
		corrupt: filepath.Join(dir, "index.corrupt.fknn"), truncated: filepath.Join(dir, "index.truncated.fknn")}
	t0 := time.Now()
	set, err := refs.ReadFile(c.refs, nil)
	if err != nil {
		return nil, err
	}
	at := int16(c.flipMin * vector.Scale)
	for p := range set.Labels {
		if set.Vecs[p*vector.Dims+c.flipDim] >= at {
			set.Labels[p] ^= 1
			d.flipped++
		}
	}
	refsPath := filepath.Join(dir, "references.flipped.json.gz")
	if err := writeRefs(refsPath, set); err != nil {
		return nil, err
	}
	logger.Printf("flipped the labels of %d of %d references (dimension %d ≥ %g) into %s in %v",
		d.flipped, set.Len(), c.flipDim, c.flipMin, refsPath, time.Since(t0).Round(time.Millisecond))
	set = nil
	t0 = time.Now()
	cmd := exec.Command(c.indexer, "-refs", refsPath, "-out", d.next)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w", c.indexer, err)
	}
	os.Remove(refsPath)
	logger.Printf("indexed them into %s in %v", d.next, time.Since(t0).Round(time.Millisecond))

	if err := d.findChanged(logger, c.artifact, payloads); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(d.next)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(d.truncated, b[:len(b)-4096], 0o644); err != nil {
		return nil, err
	}
	b[len(b)/2] ^= 0x01 // one bit, in the middle of the data
	return d, os.WriteFile(d.corrupt, b, 0o644)
}

// findChanged searches every payload in both artifacts and writes the
// payloads whose decision differs, expecting the old decision.
func (d *drill) findChanged(logger *log.Logger, oldPath, payloadsPath string) error {
	p, err := payloads.Load(payloadsPath)
	if err != nil {
		return err
	}
	var ix [2]*knn.Index
	for i, path := range []string{oldPath, d.next} {
		a, err := artifact.Map(path)
		if err != nil {
			return err
		}
		defer a.Close()
		ix[i] = a.Index
	}
	so, sn := knn.NewSearcher(ix[0], decision.Neighbors), knn.NewSearcher(ix[1], decision.Neighbors)
	var ro, rn knn.Result
	var kept []payloads.Entry
	for i, e := range p.Entries {
		v, err := vectorize.Vectorize(e.Request)
		if err != nil {
			return fmt.Errorf("payload %d: %w", i, err)
		}
		q := (*[vector.Dims]int16)(&v)
		so.Search(q, &ro)
		sn.Search(q, &rn)
		oldOK, oldScore := decision.Decide(ro.Frauds)
		if oldOK != e.ExpectedApproved {
			return fmt.Errorf("payload %d: %s answers approved=%v, the payload file expects %v: the drill needs the artifact of the payloads' references", i, oldPath, oldOK, e.ExpectedApproved)
		}
		if newOK, _ := decision.Decide(rn.Frauds); newOK != oldOK {
			kept = append(kept, payloads.Entry{Request: e.Request, ExpectedApproved: oldOK, ExpectedFraudScore: oldScore})
		}
	}
	d.changed, d.total = len(kept), len(p.Entries)
	if d.changed == 0 {
		return errors.New("the flip changes no payload's decision: choose another -flip-dim or -flip-min")
	}
	logger.Printf("%d of %d payloads change their decision with the flipped labels; the load sends only those", d.changed, d.total)
	b, err := json.Marshal(payloads.File{Entries: kept})
	if err != nil {
		return err
	}
	return os.WriteFile(d.payloads, b, 0o644)
}

// writeRefs writes set as a gzipped reference file.
func writeRefs(path string, set *refs.Set) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	w := bufio.NewWriterSize(zw, 1<<20)
	w.WriteByte('[')
	var line []byte
	for p := range set.Len() {
		line = line[:0]
		if p > 0 {
			line = append(line, ',')
		}
		line = append(line, `{"vector":[`...)
		for d, x := range set.Vecs[p*vector.Dims : (p+1)*vector.Dims] {
			if d > 0 {
				line = append(line, ',')
			}
			line = strconv.AppendFloat(line, float64(x)/vector.Scale, 'f', -1, 64)
		}
		line = append(line, `],"label":"`...)
		line = append(line, [2]string{"legit", "fraud"}[set.Labels[p]]...)
		line = append(line, `"}`...)
		w.Write(line)
	}
	w.WriteByte(']')
	if err := errors.Join(w.Flush(), zw.Close()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReindexResult is what the reindex drill found.
type ReindexResult struct {
	Refused           map[string]string    `json:"refused"` // each bad artifact, and why it was refused
	FlippedReferences int                  `json:"flipped_references"`
	PayloadsChanged   string               `json:"payloads_changed"`
	Timeline          timeline             `json:"timeline"`
	Steps             []stack.Step         `json:"steps"`
	Memory            map[string]APIMemory `json:"memory"`
	// WrongIndex counts the answers from the wrong index for their time:
	// the new one's before the update, the old one's after it.
	WrongIndex int `json:"wrong_index"`
}

// APIMemory is an API cgroup's memory over the run.
type APIMemory struct {
	PeakMiB   float64 `json:"peak_mib"`
	LimitMiB  float64 `json:"limit_mib"`
	OOMKills  int64   `json:"oom_kills"`
	LimitHits int64   `json:"limit_hits"`
}

// reindexDrill runs the load, refuses the bad artifacts at -at/2, updates
// the index at -at, and reads from k6's samples which index gave each
// answer when.
func reindexDrill(logger *log.Logger, c config, s *stack.Stack, d *drill, dir string, load []string) (*loadtest.Results, *ReindexResult, error) {
	samples := filepath.Join(dir, "samples.csv")
	load = append(load, "K6_OUT=csv="+samples, "K6_CSV_TIME_FORMAT=unix_milli")
	k6 := c.k6
	k6.Payloads = d.payloads
	var roll stack.Roll
	var rollErr error
	refused := map[string]string{}
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(c.at / 2)
		if rollErr = refuseBad(logger, c, s, d, refused); rollErr != nil {
			return
		}
		time.Sleep(c.at / 2)
		logger.Printf("updating the index to %s", d.next)
		roll, rollErr = s.Reindex(d.next, logger.Printf)
	})
	res, err := k6.Run(dir, load...)
	wg.Wait()
	if err != nil {
		return nil, nil, err
	}
	if rollErr != nil {
		return nil, nil, rollErr
	}
	t, err := readTimeline(samples, roll)
	if err != nil {
		return nil, nil, err
	}
	// About 100 MB of samples and 300 MB of artifacts: the figures below
	// are what they held, and the drill makes them again.
	for _, f := range []string{samples, d.corrupt, d.truncated, d.next} {
		os.Remove(f)
	}
	fmt.Printf("reindex: before the update %d answers from the old index, %d from the new; during it %d old, %d new; after it %d old, %d new; "+
		"both served for %.0f ms (first new answer %.0f ms after api1 was stopped, last old one %.0f ms after it)\n",
		t.BeforeOld, t.BeforeNew, t.DuringOld, t.DuringNew, t.AfterOld, t.AfterNew, t.BothMs, t.FirstNewMs, t.LastOldMs)
	if t.BeforeOld == 0 || t.AfterNew == 0 {
		return nil, nil, fmt.Errorf("the load did not cover the update: %d answers before it, %d after; lengthen -seconds or move -at", t.BeforeOld, t.AfterNew)
	}
	return res, &ReindexResult{
		Refused:           refused,
		FlippedReferences: d.flipped,
		PayloadsChanged:   fmt.Sprintf("%d of %d", d.changed, d.total),
		Timeline:          t,
		Steps:             roll.Steps,
		Memory:            memory(s),
		WrongIndex:        t.BeforeNew + t.AfterOld,
	}, nil
}

// refuseBad offers the corrupt and the truncated artifact to the running
// stack: each must be refused, with the instances and the artifact
// unchanged. refused records why each was.
func refuseBad(logger *log.Logger, c config, s *stack.Stack, d *drill, refused map[string]string) error {
	pids := [2]int{s.Pid("api1"), s.Pid("api2")}
	for _, bad := range []string{d.corrupt, d.truncated} {
		_, err := s.Reindex(bad, logger.Printf)
		if err == nil {
			return fmt.Errorf("the bad artifact %s was accepted", bad)
		}
		logger.Printf("refused as it must be: %v", err)
		refused[filepath.Base(bad)] = err.Error()
	}
	if now := [2]int{s.Pid("api1"), s.Pid("api2")}; now != pids || s.Artifact() != c.artifact {
		return fmt.Errorf("a refused update changed the instances: pids %v → %v, artifact %s", pids, now, s.Artifact())
	}
	return nil
}

// timeline counts the answers of each index in each phase of the update:
// before the first instance was stopped, until the last instance was
// ready on the new index, and after.
type timeline struct {
	BeforeOld  int     `json:"before_old"`
	BeforeNew  int     `json:"before_new"`
	DuringOld  int     `json:"during_old"`
	DuringNew  int     `json:"during_new"`
	AfterOld   int     `json:"after_old"`
	AfterNew   int     `json:"after_new"`
	Errors     int     `json:"errors"`
	FirstNewMs float64 `json:"first_new_ms"` // first answer from the new index, after the first instance was stopped
	LastOldMs  float64 `json:"last_old_ms"`  // last answer from the old index, after the same
	BothMs     float64 `json:"both_ms"`      // how long both indexes answered: LastOld - FirstNew (0 if they never overlapped)
}

// readTimeline reads k6's CSV samples: every decision_* counter sample is
// one answer, stamped with the time k6 read it.
func readTimeline(path string, roll stack.Roll) (timeline, error) {
	var t timeline
	f, err := os.Open(path)
	if err != nil {
		return t, err
	}
	defer f.Close()
	start, end := roll.Steps[0].Stop.UnixMilli(), roll.Steps[len(roll.Steps)-1].Ready.UnixMilli()
	firstNew, lastOld := int64(-1), int64(-1)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ",")
		if !ok || !strings.HasPrefix(name, "decision_") {
			continue
		}
		stamp, _, _ := strings.Cut(rest, ",")
		ms, err := strconv.ParseInt(stamp, 10, 64)
		if err != nil {
			return t, fmt.Errorf("%s: timestamp %q: %w", path, stamp, err)
		}
		var old bool
		switch name {
		case "decision_tp", "decision_tn":
			old = true
			lastOld = max(lastOld, ms)
		case "decision_fp", "decision_fn":
			if firstNew < 0 || ms < firstNew {
				firstNew = ms
			}
		default:
			t.Errors++
			continue
		}
		phase := 1
		switch {
		case ms < start:
			phase = 0
		case ms > end:
			phase = 2
		}
		counts := [3][2]*int{{&t.BeforeOld, &t.BeforeNew}, {&t.DuringOld, &t.DuringNew}, {&t.AfterOld, &t.AfterNew}}
		if old {
			*counts[phase][0]++
		} else {
			*counts[phase][1]++
		}
	}
	if firstNew >= 0 {
		t.FirstNewMs = float64(firstNew - start)
	}
	t.LastOldMs = float64(lastOld - start)
	t.BothMs = max(0, t.LastOldMs-t.FirstNewMs)
	return t, sc.Err()
}

// memory reports each API cgroup's peak memory over the run against its
// limit.
func memory(s *stack.Stack) map[string]APIMemory {
	out := map[string]APIMemory{}
	for _, name := range stack.APIs {
		cg := s.Cgroup(name)
		if cg == nil {
			continue
		}
		st, err := cg.Stats()
		if err != nil {
			continue
		}
		out[name] = APIMemory{PeakMiB: float64(st.MemoryPeak) / (1 << 20), LimitMiB: float64(st.MemoryLimit) / (1 << 20),
			OOMKills: int64(st.OOMKills), LimitHits: int64(st.MemoryFailures)}
	}
	return out
}
