// Package artifact stores a knn.Index in a versioned binary file and maps
// it back read-only, so the service searches the index without parsing or
// copying it. docs/ARTIFACT.md gives the byte layout.
package artifact

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"unsafe"

	"fraudknn/knn"
	"fraudknn/vector"
)

// Magic opens every artifact file.
const Magic = "FRAUDKNN"

// Version is the format version this package writes and reads. Any change
// to the layout bumps it; a file of another version is refused.
const Version = 4

// HeaderSize is the size of the header; the first section starts here.
const HeaderSize = 384

// Align is the alignment of every section's offset in the file.
const Align = 64

// The sections are knn's tables, in the order knn.TableList gives.
const numSections = knn.NumTables

// Header field offsets.
const (
	offMagic      = 0   // [8]byte
	offVersion    = 8   // uint32
	offHeaderSize = 12  // uint32
	offFileSize   = 16  // uint64
	offN          = 24  // uint32
	offDims       = 28  // uint32
	offK          = 32  // uint32
	offScale      = 36  // uint32
	offGroup      = 40  // uint32
	offLeaf       = 44  // uint32: members per leaf
	offSeed       = 48  // uint64: k-means seed
	offKRequested = 56  // uint32: clusters asked of k-means
	offIterations = 60  // uint32: k-means iterations run
	offSource     = 64  // [32]byte: SHA-256 of the uncompressed references JSON
	offRegion     = 96  // uint32: clusters per region
	offSections   = 104 // numSections × {offset uint64, length uint64}
	offDataCRC    = 312 // uint32: CRC-32C of bytes [HeaderSize, file size)
	offHeaderCRC  = 316 // uint32: CRC-32C of bytes [0, offHeaderCRC)
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Meta describes where an artifact came from.
type Meta struct {
	Source     [32]byte // SHA-256 of the uncompressed references JSON
	Seed       uint64   // k-means seed
	KRequested int      // clusters asked of k-means (K may be smaller: empty clusters are dropped)
	Iterations int      // k-means iterations run
}

type section struct{ off, len uint64 }

// header is the decoded fixed-size header.
type header struct {
	fileSize uint64
	n, k     int
	meta     Meta
	sections [numSections]section
	dataCRC  uint32
}

// sectionLengths returns the byte length of every section for an index of
// n vectors in k clusters, as knn's table list gives it, with 0 for the
// sections whose length only the data tells (knn.Table.Row).
func sectionLengths(n, k int) [numSections]uint64 {
	var l [numSections]uint64
	for i := range knn.TableList() {
		tb := &knn.TableList()[i]
		if elems, fixed := tb.Len(n, k); fixed {
			l[i] = uint64(elems) * uint64(tb.Size)
		}
	}
	return l
}

// tableLengths returns the byte length of every table of t.
func tableLengths(t *knn.Tables) [numSections]uint64 {
	var l [numSections]uint64
	for i := range knn.TableList() {
		l[i] = uint64(len(tableBytes(knn.TableList()[i].Slice(t))))
	}
	return l
}

func alignUp(x uint64) uint64 { return (x + Align - 1) &^ (Align - 1) }

// layout places sections of the given lengths after the header, each at an
// aligned offset, and returns them with the file size.
func layout(lengths [numSections]uint64) ([numSections]section, uint64) {
	var s [numSections]section
	off := uint64(HeaderSize)
	for i, l := range lengths {
		off = alignUp(off)
		s[i] = section{off, l}
		off += l
	}
	return s, off
}

func (h *header) encode() []byte {
	b := make([]byte, HeaderSize)
	le := binary.LittleEndian
	copy(b[offMagic:], Magic)
	le.PutUint32(b[offVersion:], Version)
	le.PutUint32(b[offHeaderSize:], HeaderSize)
	le.PutUint64(b[offFileSize:], h.fileSize)
	le.PutUint32(b[offN:], uint32(h.n))
	le.PutUint32(b[offDims:], vector.Dims)
	le.PutUint32(b[offK:], uint32(h.k))
	le.PutUint32(b[offScale:], vector.Scale)
	le.PutUint32(b[offGroup:], knn.Group)
	le.PutUint32(b[offLeaf:], knn.Leaf)
	le.PutUint32(b[offRegion:], knn.RegionSize)
	le.PutUint64(b[offSeed:], h.meta.Seed)
	le.PutUint32(b[offKRequested:], uint32(h.meta.KRequested))
	le.PutUint32(b[offIterations:], uint32(h.meta.Iterations))
	copy(b[offSource:], h.meta.Source[:])
	for i, s := range h.sections {
		le.PutUint64(b[offSections+16*i:], s.off)
		le.PutUint64(b[offSections+16*i+8:], s.len)
	}
	le.PutUint32(b[offDataCRC:], h.dataCRC)
	le.PutUint32(b[offHeaderCRC:], crc32.Checksum(b[:offHeaderCRC], castagnoli))
	return b
}

// decodeHeader parses and checks the header of a file of the given size.
// It checks everything the header alone can tell; the section contents are
// checked by the caller.
func decodeHeader(b []byte, size uint64) (*header, error) {
	le := binary.LittleEndian
	if len(b) < HeaderSize {
		return nil, fmt.Errorf("file is %d bytes, shorter than the %d-byte header: it is truncated or not an artifact", len(b), HeaderSize)
	}
	if string(b[offMagic:offMagic+8]) != Magic {
		return nil, fmt.Errorf("file does not start with %q: it is not a fraudknn artifact", Magic)
	}
	if v := le.Uint32(b[offVersion:]); v != Version {
		return nil, fmt.Errorf("artifact format version %d; this build reads version %d only", v, Version)
	}
	if got, want := le.Uint32(b[offHeaderCRC:]), crc32.Checksum(b[:offHeaderCRC], castagnoli); got != want {
		return nil, fmt.Errorf("header checksum mismatch (stored %08x, computed %08x): the header is corrupt", got, want)
	}
	if hs := le.Uint32(b[offHeaderSize:]); hs != HeaderSize {
		return nil, fmt.Errorf("header size %d; want %d", hs, HeaderSize)
	}
	h := &header{
		fileSize: le.Uint64(b[offFileSize:]),
		n:        int(le.Uint32(b[offN:])),
		k:        int(le.Uint32(b[offK:])),
		dataCRC:  le.Uint32(b[offDataCRC:]),
	}
	h.meta.Seed = le.Uint64(b[offSeed:])
	h.meta.KRequested = int(le.Uint32(b[offKRequested:]))
	h.meta.Iterations = int(le.Uint32(b[offIterations:]))
	copy(h.meta.Source[:], b[offSource:])
	if h.fileSize != size {
		return nil, fmt.Errorf("header says the file is %d bytes but it is %d: it is truncated or was damaged in copying", h.fileSize, size)
	}
	if d := le.Uint32(b[offDims:]); d != vector.Dims {
		return nil, fmt.Errorf("artifact has %d dimensions; this build searches %d", d, vector.Dims)
	}
	if s := le.Uint32(b[offScale:]); s != vector.Scale {
		return nil, fmt.Errorf("artifact has scale %d; this build uses %d", s, vector.Scale)
	}
	if g := le.Uint32(b[offGroup:]); g != knn.Group {
		return nil, fmt.Errorf("artifact pads clusters to %d vectors; this build needs %d", g, knn.Group)
	}
	if l := le.Uint32(b[offLeaf:]); l != knn.Leaf {
		return nil, fmt.Errorf("artifact has leaves of %d vectors; this build searches leaves of %d", l, knn.Leaf)
	}
	if r := le.Uint32(b[offRegion:]); r != knn.RegionSize {
		return nil, fmt.Errorf("artifact has regions of %d clusters; this build searches regions of %d", r, knn.RegionSize)
	}
	if h.n <= 0 || h.k <= 0 || h.k > h.n {
		return nil, fmt.Errorf("artifact claims %d vectors in %d clusters", h.n, h.k)
	}
	prevEnd := uint64(HeaderSize)
	for i := range h.sections {
		s := section{le.Uint64(b[offSections+16*i:]), le.Uint64(b[offSections+16*i+8:])}
		if s.off%Align != 0 || s.off < prevEnd || s.off > size || s.len > size-s.off {
			return nil, fmt.Errorf("%s section [%d, +%d) is misaligned, overlaps another or runs past the end of the %d-byte file", knn.TableList()[i].Name, s.off, s.len, size)
		}
		h.sections[i] = s
		prevEnd = s.off + s.len
	}
	// Most lengths follow from N and K; the others from the padded sizes,
	// which knn.New checks once it can read them.
	want := sectionLengths(h.n, h.k)
	for i, s := range h.sections {
		tb := &knn.TableList()[i]
		if row := uint64(tb.Row * tb.Size); row != 0 && s.len%row != 0 {
			return nil, fmt.Errorf("%s section is %d bytes, not a whole number of %d-coordinate rows", tb.Name, s.len, tb.Row)
		}
		if tb.Row == 0 && s.len != want[i] {
			return nil, fmt.Errorf("%s section is %d bytes; %d vectors in %d clusters need %d", tb.Name, s.len, h.n, h.k, want[i])
		}
	}
	return h, nil
}

// littleEndian reports whether this machine stores integers little-endian,
// as the file does: the reader views the mapped bytes in place.
func littleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

// asBytes views a slice of fixed-size numbers as its bytes.
func asBytes[T int16 | uint32 | float32 | uint8](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z)))
}

// view views bytes as a slice of T. b must be aligned for T and a multiple
// of its size (the reader checks both through the section table).
func view[T int16 | uint32 | float32 | uint8](b []byte) []T {
	var z T
	n := len(b) / int(unsafe.Sizeof(z))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}

// tableBytes views a table of knn.Tables, as knn.Table.Slice gives it, as
// its bytes.
func tableBytes(p any) []byte {
	switch p := p.(type) {
	case *[]int16:
		return asBytes(*p)
	case *[]uint8:
		return asBytes(*p)
	case *[]uint32:
		return asBytes(*p)
	case *[]float32:
		return asBytes(*p)
	}
	panic(fmt.Sprintf("artifact: BUG: knn has a table of type %T", p))
}

// setTable points a table of knn.Tables, as knn.Table.Slice gives it, at
// the bytes b.
func setTable(p any, b []byte) {
	switch p := p.(type) {
	case *[]int16:
		*p = view[int16](b)
	case *[]uint8:
		*p = view[uint8](b)
	case *[]uint32:
		*p = view[uint32](b)
	case *[]float32:
		*p = view[float32](b)
	default:
		panic(fmt.Sprintf("artifact: BUG: knn has a table of type %T", p))
	}
}
