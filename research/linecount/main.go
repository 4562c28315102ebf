// Command linecount estimates how many 64-byte cache lines an exact,
// box-bounded search must read per query: for the index as it is, and
// for finer variants of it that exist only here, as arithmetic.
//
//	go -C research run ./linecount -artifact ../build/index.fknn -payloads ../../shared/data/test-data.json.gz
//
// On a machine where the index does not fit in the caches, a search's
// time follows the lines it reads (docs/TUNING.md): at one core's
// streaming rate (research/probe) a line costs about 4.7 ns here, so a search
// of L lines takes at least L times that. linecount answers "how few
// lines could a finer index read?" before anyone builds one.
//
// Every count is an oracle's: it assumes the query's final k-th distance
// D is known from the start, so a box is read only when its parent's
// box comes within D, and a block of vectors only when its own box does.
// A real search starts with a looser bound and reads more. For each
// query (every -every-th payload), the real search gives D and the
// number of vectors it scanned; queries are ranked by that number and
// the report gives the mean over the 1% of them centred on each
// percentile.
//
// The layouts counted (sizes as docs/ARTIFACT.md gives them):
//
//   - index: the artifact as it is. Tier 1 reads the region centroids
//     and two regions' cluster centroids, tier 2 the region boxes, the
//     cluster boxes of every region within D, and for every cluster
//     within D its table entries (2 lines) and leaf boxes (padded to 16
//     leaves); then the vectors of every leaf within D.
//   - groups of G, int16 boxes: the same, but every leaf within D has
//     its groups of G members' boxes read (one line each) and only the
//     groups within D have their vectors read.
//   - groups of G, 1-byte boxes: as above, with every box below the
//     regions stored as one byte per bound, relative to its parent's box
//     (its range cut into 255 steps, the child's box widened outwards to
//     whole steps, which loosens it a little): 28 bytes a box, and no
//     padding.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"fraudknn/artifact"
	"fraudknn/internal/payloads"
	"fraudknn/knn"
	"fraudknn/vector"
	"fraudknn/vectorize"
)

const (
	line      = 64                  // bytes of a cache line
	vecBytes  = vector.Dims * 2     // an int16 vector
	box16     = 2 * vector.Dims * 2 // an int16 box: minima and maxima
	box8      = 2 * vector.Dims     // a 1-byte box
	groupLine = line                // an int16 group box, padded to a line
)

func main() {
	artifactPath := flag.String("artifact", "", "artifact built by cmd/indexer (required)")
	payloadsPath := flag.String("payloads", "", "test-data file, JSON or .json.gz (required)")
	every := flag.Int("every", 5, "use every N-th payload")
	groupList := flag.String("groups", "8,16,32", "group sizes to count, comma-separated divisors of 64")
	nsPerLine := flag.Float64("ns", 4.73, "nanoseconds a line costs at the streaming rate (go -C research run ./probe); 0 omits the time column")
	flag.Parse()
	groups, err := parseGroups(*groupList)
	if *artifactPath == "" || *payloadsPath == "" || *every < 1 || flag.NArg() > 0 || err != nil {
		if err != nil {
			fmt.Fprintf(os.Stderr, "linecount: -groups: %v\n", err)
		}
		fmt.Fprintln(os.Stderr, "usage: linecount -artifact index.fknn -payloads test-data.json.gz [-every N] [-groups 8,16,32] [-ns 4.73]")
		os.Exit(2)
	}
	a, err := artifact.Map(*artifactPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "linecount: %v\n", err)
		os.Exit(1)
	}
	defer a.Close()
	p, err := payloads.Load(*payloadsPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "linecount: %v\n", err)
		os.Exit(1)
	}

	ix := a.Index
	t := buildTree(ix, groups)
	s := knn.NewSearcher(ix, 5)
	var r knn.Result
	var queries []count
	for i := 0; i < len(p.Entries); i += *every {
		v, err := vectorize.Vectorize(p.Entries[i].Request)
		if err != nil {
			continue // the replay reports these; nothing to count
		}
		q := [vector.Dims]int16(v)
		s.Search(&q, &r)
		c := t.count(&q, int64(r.Neighbors[r.Count-1].Dist))
		c.scanned = r.Vectors
		queries = append(queries, c)
	}
	if len(queries) == 0 {
		fmt.Fprintln(os.Stderr, "linecount: no payload could be vectorized")
		os.Exit(1)
	}
	slices.SortFunc(queries, func(x, y count) int { return x.scanned - y.scanned })

	fmt.Printf("linecount: %d queries (every %d-th payload); lines read with the final k-th distance known from the start, mean over the 1%% of queries around each percentile of vectors scanned\n",
		len(queries), *every)
	names := []string{"index"}
	for _, g := range groups {
		names = append(names, fmt.Sprintf("groups of %d, int16 boxes", g), fmt.Sprintf("groups of %d, 1-byte boxes", g))
	}
	for _, pc := range []int{50, 90, 99} {
		// The 1% of queries centred on the percentile.
		from := max(len(queries)*(2*pc-1)/200, 0)
		window := queries[from:min(len(queries), from+max(len(queries)/100, 1))]
		scanned := 0
		for _, c := range window {
			scanned += c.scanned
		}
		fmt.Printf("p%d (%d queries; the search scanned %d vectors on average):\n", pc, len(window), scanned/len(window))
		for i, name := range names {
			var lines, vecs float64
			for _, c := range window {
				lines += c.lines[i]
				vecs += float64(c.vectors[i])
			}
			n := float64(len(window))
			fmt.Printf("  %-28s %6.0f lines, %6.0f vectors", name, lines/n, vecs/n)
			if *nsPerLine > 0 {
				fmt.Printf(", %5.1f µs at %.2f ns a line", lines/n**nsPerLine/1000, *nsPerLine)
			}
			fmt.Println()
		}
	}
}

func parseGroups(s string) ([]int, error) {
	var gs []int
	for _, f := range strings.Split(s, ",") {
		g, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || g < 1 || knn.Leaf%g != 0 {
			return nil, fmt.Errorf("%q is not a divisor of %d", f, knn.Leaf)
		}
		gs = append(gs, g)
	}
	return gs, nil
}
