package main

import (
	"math"

	"fraudknn/knn"
	"fraudknn/vector"
)

// box is an axis-aligned box of int16 coordinates.
type box struct{ lo, hi [vector.Dims]int16 }

func emptyBox() box {
	var b box
	for d := range b.lo {
		b.lo[d], b.hi[d] = math.MaxInt16, math.MinInt16
	}
	return b
}

func (b *box) add(v [vector.Dims]int16) {
	for d, x := range v {
		b.lo[d], b.hi[d] = min(b.lo[d], x), max(b.hi[d], x)
	}
}

func (b *box) merge(o box) {
	for d := range o.lo {
		b.lo[d], b.hi[d] = min(b.lo[d], o.lo[d]), max(b.hi[d], o.hi[d])
	}
}

// dist returns the exact squared distance from q to the box.
func (b *box) dist(q *[vector.Dims]int16) int64 {
	var s int64
	for d, x := range q {
		var gap int64
		switch {
		case x < b.lo[d]:
			gap = int64(b.lo[d]) - int64(x)
		case x > b.hi[d]:
			gap = int64(x) - int64(b.hi[d])
		}
		s += gap * gap
	}
	return s
}

// coarse returns child as a 1-byte box relative to parent would store
// it: parent's range in each dimension cut into 255 steps, child's
// bounds moved outwards to whole steps. The result contains child.
func coarse(parent, child box) box {
	var c box
	for d := range child.lo {
		base := int(parent.lo[d])
		step := max((int(parent.hi[d])-base+254)/255, 1)
		lo := (int(child.lo[d]) - base) / step
		hi := (int(child.hi[d]) - base + step - 1) / step
		c.lo[d] = int16(base + lo*step)
		c.hi[d] = int16(min(base+hi*step, int(parent.hi[d])))
	}
	return c
}

// node is a leaf or a cluster with its exact box, its 1-byte box, and
// for a leaf its groups (for each group size counted) and member count.
type node struct {
	exact, coarse box
	n             int
	groups        [][]node // per group size: the groups of a leaf
	children      []node   // a cluster's leaves
}

// tree holds the index's regions, clusters, leaves and groups as boxes.
type tree struct {
	groupSizes []int
	regions    []box
	clusters   []node
	fixed      float64 // lines every search reads: centroids and region boxes
}

func buildTree(ix *knn.Index, groupSizes []int) *tree {
	t := &tree{groupSizes: groupSizes, regions: make([]box, (ix.Clusters()+knn.RegionSize-1)/knn.RegionSize)}
	for r := range t.regions {
		t.regions[r] = emptyBox()
	}
	sizes := ix.ClusterSizes()
	t.clusters = make([]node, ix.Clusters())
	for c, m := range sizes {
		cl := &t.clusters[c]
		cl.exact = emptyBox()
		for j0 := 0; j0 < m; j0 += knn.Leaf {
			lf := node{exact: emptyBox(), n: min(knn.Leaf, m-j0)}
			members := make([][vector.Dims]int16, lf.n)
			for j := range members {
				members[j] = ix.Vector(c, j0+j)
				lf.exact.add(members[j])
			}
			for _, g := range groupSizes {
				var gs []node
				for i := 0; i < lf.n; i += g {
					gr := node{exact: emptyBox(), n: min(g, lf.n-i)}
					for _, v := range members[i : i+gr.n] {
						gr.exact.add(v)
					}
					gr.coarse = coarse(lf.exact, gr.exact)
					gs = append(gs, gr)
				}
				lf.groups = append(lf.groups, gs)
			}
			cl.exact.merge(lf.exact)
			cl.children = append(cl.children, lf)
		}
		for i := range cl.children {
			cl.children[i].coarse = coarse(cl.exact, cl.children[i].exact)
		}
		t.regions[c/knn.RegionSize].merge(cl.exact)
	}
	for c := range t.clusters {
		t.clusters[c].coarse = coarse(t.regions[c/knn.RegionSize], t.clusters[c].exact)
	}
	rp := (len(t.regions) + 63) / 64 * 64
	// Region centroids (float32), two regions' cluster centroids, region boxes.
	t.fixed = float64(vector.Dims*rp*4+2*knn.RegionSize*vector.Dims*4+2*vector.Dims*rp*2) / line
	return t
}

// count holds one query's figures: per layout (index, then for each
// group size the int16 and the 1-byte variant) the lines read and the
// vectors scanned, and the vectors the real search scanned.
type count struct {
	lines   []float64
	vectors []int
	scanned int
}

// count returns the lines each layout reads for q when D is known.
func (t *tree) count(q *[vector.Dims]int16, D int64) count {
	layouts := 1 + 2*len(t.groupSizes)
	c := count{lines: make([]float64, layouts), vectors: make([]int, layouts)}
	for i := range c.lines {
		c.lines[i] = t.fixed
	}
	for r := range t.regions {
		if t.regions[r].dist(q) > D {
			continue
		}
		first, last := r*knn.RegionSize, min(len(t.clusters), (r+1)*knn.RegionSize)
		for i := range c.lines {
			if i == 0 || i%2 == 1 { // int16 cluster boxes: the region's block
				c.lines[i] += float64(knn.RegionSize*box16) / line
			} else {
				c.lines[i] += float64(knn.RegionSize*box8) / line
			}
		}
		for ci := first; ci < last; ci++ {
			t.countCluster(&t.clusters[ci], q, D, &c)
		}
	}
	return c
}

func (t *tree) countCluster(cl *node, q *[vector.Dims]int16, D int64, c *count) {
	nb := len(cl.children)
	padded := (nb + 15) / 16 * 16
	if cl.exact.dist(q) <= D {
		// The index and the int16 variants: table entries, leaf boxes.
		for i := range c.lines {
			if i == 0 || i%2 == 1 {
				c.lines[i] += 2
				if nb > 1 {
					c.lines[i] += float64(padded*box16) / line
				}
			}
		}
		for _, lf := range cl.children {
			if lf.exact.dist(q) > D {
				continue
			}
			c.lines[0] += float64((lf.n+15)/16*16*vecBytes) / line
			c.vectors[0] += lf.n
			for gi, groups := range lf.groups {
				c.addGroups(1+2*gi, groups, groupLine, false, q, D)
			}
		}
	}
	if cl.coarse.dist(q) <= D {
		for gi := range t.groupSizes {
			i := 2 + 2*gi
			c.lines[i] += 2 + float64(nb*box8)/line
		}
		for _, lf := range cl.children {
			if lf.coarse.dist(q) > D {
				continue
			}
			for gi, groups := range lf.groups {
				c.addGroups(2+2*gi, groups, box8, true, q, D)
			}
		}
	}
}

// addGroups counts for layout i a leaf's group boxes, boxBytes each, and
// the vectors of every group whose box (the 1-byte one if coarse) comes
// within D of q.
func (c *count) addGroups(i int, groups []node, boxBytes int, coarse bool, q *[vector.Dims]int16, D int64) {
	c.lines[i] += float64(len(groups)*boxBytes) / line
	for k := range groups {
		g := &groups[k]
		b := &g.exact
		if coarse {
			b = &g.coarse
		}
		if b.dist(q) <= D {
			c.lines[i] += float64(g.n*vecBytes) / line
			c.vectors[i] += g.n
		}
	}
}
