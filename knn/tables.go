package knn

import "fraudknn/vector"

// Table describes one of the tables an Index is made of (a field of
// Tables): what package artifact needs to store it, find it again and
// check its length, so that the list of tables is written once, here.
type Table struct {
	Name string // as errors and docs/ARTIFACT.md name it
	Size int    // bytes of an element

	// Row is 0 when the number of vectors and clusters alone give the
	// table's length (Len). Otherwise the length follows from the padded
	// cluster sizes too, which only the data holds, and is a whole number
	// of rows of Row elements; New checks it.
	Row int

	len   func(n, k int) int
	slice func(t *Tables) any
}

// Len returns the number of elements of the table in an index of n vectors
// in k clusters, and whether n and k determine it (Row == 0).
func (tb *Table) Len(n, k int) (elems int, fixed bool) {
	if tb.len == nil {
		return 0, false
	}
	return tb.len(n, k), true
}

// Slice returns a pointer to the table's field of t: a *[]int16,
// *[]uint8, *[]uint32 or *[]float32, to read or set.
func (tb *Table) Slice(t *Tables) any { return tb.slice(t) }

// NumTables is the number of tables of an index.
const NumTables = 13

// TableList returns the tables of an index in the order package artifact
// stores them.
func TableList() *[NumTables]Table { return &tableList }

var tableList = [NumTables]Table{
	{Name: "vectors", Size: 2, Row: vector.Dims, slice: func(t *Tables) any { return &t.Vecs }},
	{Name: "labels", Size: 1, len: func(n, k int) int { return n }, slice: func(t *Tables) any { return &t.Labels }},
	{Name: "positions", Size: 4, len: func(n, k int) int { return n }, slice: func(t *Tables) any { return &t.Pos }},
	{Name: "cluster starts", Size: 4, len: clusterPrefix, slice: func(t *Tables) any { return &t.Start }},
	{Name: "padded cluster starts", Size: 4, len: clusterPrefix, slice: func(t *Tables) any { return &t.PadStart }},
	{Name: "centroids", Size: 4, len: clusterTable, slice: func(t *Tables) any { return &t.Centroids }},
	{Name: "box minima", Size: 2, len: clusterTable, slice: func(t *Tables) any { return &t.BoxMin }},
	{Name: "box maxima", Size: 2, len: clusterTable, slice: func(t *Tables) any { return &t.BoxMax }},
	{Name: "leaf starts", Size: 4, len: clusterPrefix, slice: func(t *Tables) any { return &t.LeafStart }},
	{Name: "leaf boxes", Size: 2, Row: vector.Dims, slice: func(t *Tables) any { return &t.LeafBoxes }},
	{Name: "region centroids", Size: 4, len: regionTable, slice: func(t *Tables) any { return &t.RegionCentroids }},
	{Name: "region minima", Size: 2, len: regionTable, slice: func(t *Tables) any { return &t.RegionMin }},
	{Name: "region maxima", Size: 2, len: regionTable, slice: func(t *Tables) any { return &t.RegionMax }},
}

// clusterPrefix is the length of a table of prefix sums over the clusters.
func clusterPrefix(n, k int) int { return k + 1 }

// clusterTable is the length of a per-cluster table: one block of
// RegionSize columns per region, vector.Dims rows each.
func clusterTable(n, k int) int { return regions(k) * RegionSize * vector.Dims }

// regionTable is the length of a per-region table: vector.Dims rows of
// regionStride(k) columns.
func regionTable(n, k int) int { return regionStride(k) * vector.Dims }

// regions returns the number of regions of k clusters: k/RegionSize
// rounded up.
func regions(k int) int { return (k + RegionSize - 1) / RegionSize }

// regionStride returns the row stride of the region tables of k clusters:
// the number of regions rounded up to centroidGroup, the columns the
// centroid kernels work on at a time.
func regionStride(k int) int {
	return (regions(k) + centroidGroup - 1) / centroidGroup * centroidGroup
}

// tableLen returns the number of elements of a table's slice, as Slice
// returns it.
func tableLen(p any) int {
	switch p := p.(type) {
	case *[]int16:
		return len(*p)
	case *[]uint8:
		return len(*p)
	case *[]uint32:
		return len(*p)
	case *[]float32:
		return len(*p)
	}
	panic("knn: BUG: a table of an unexpected type")
}
