package main

import (
	"fmt"
	"io"
	"math"

	"fraudknn/artifact"
	"fraudknn/internal/memlimit"
)

// check runs on the artifact at path every check an API makes before it
// serves it (artifact.Verify: the header, the checksum of every byte,
// the index's contents, and the digest when one is pinned), and, given
// the memory an API instance may use (memLimit, 0 for none), that the
// artifact leaves it enough (memlimit.New, as the API plans its memory).
// It says what it found on out.
func check(path string, pinned artifact.Digest, memLimit int64, out io.Writer) error {
	a, err := artifact.Verify(path, pinned)
	if err != nil {
		return err
	}
	defer a.Close()
	fits := ""
	if memLimit > 0 {
		plan, err := memlimit.New(memLimit, a.Size, 0, math.MaxInt)
		if err != nil {
			return fmt.Errorf("artifact %s: %w", path, err)
		}
		fits = fmt.Sprintf("; in %s an API has a Go memory limit of %s and memory for %d connections", memlimit.MiB(memLimit), memlimit.MiB(plan.GoLimit), plan.MaxConns)
	}
	pin := "matches the pinned digest"
	if pinned.IsZero() {
		pin = "nothing pinned: add -digest to compare it with the one you pinned"
	}
	fmt.Fprintf(out, "ok: %s passes every check an API makes: %d vectors in %d clusters, %.1f MiB, built from references with sha256 %x%s\nsha256 %s (%s)\n",
		path, a.Index.Len(), a.Index.Clusters(), float64(a.Size)/(1<<20), a.Meta.Source, fits, a.SHA256, pin)
	return nil
}
