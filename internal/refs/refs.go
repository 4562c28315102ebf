// Package refs reads the contest's reference file, a JSON array of
// {"vector": [14 numbers], "label": "fraud" | "legit"} records, into
// fixed-point vectors, exactly and without reflection.
package refs

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"

	"fraudknn/vector"
)

// Set is a set of labelled vectors in their original order.
type Set struct {
	Vecs   []int16  // row-major: coordinate d of vector p is Vecs[p*vector.Dims+d]
	Labels []uint8  // 1 fraud, 0 legit
	SHA256 [32]byte // of the uncompressed JSON text
	Bytes  int64    // length of the uncompressed JSON text
}

// Len returns the number of vectors.
func (s *Set) Len() int { return len(s.Labels) }

// Frauds returns the number of vectors labelled fraud.
func (s *Set) Frauds() int {
	n := 0
	for _, l := range s.Labels {
		n += int(l)
	}
	return n
}

// ReadFile reads the reference file at path, gunzipping it when it starts
// with the gzip magic bytes. progress, when not nil, is called now and then
// with the bytes of the file consumed so far and its size.
func ReadFile(path string, progress func(done, total int64)) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	cr := &countingReader{r: f, total: st.Size(), progress: progress}
	br := bufio.NewReaderSize(cr, 1<<20)
	var r io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	set, err := Read(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return set, nil
}

type countingReader struct {
	r        io.Reader
	n, total int64
	last     int64
	progress func(done, total int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil && (c.n-c.last >= 4<<20 || err == io.EOF) {
		c.last = c.n
		c.progress(c.n, c.total)
	}
	return n, err
}

// Error is a problem found in the reference file.
type Error struct {
	Record int   // 0-based position of the record, -1 outside any record
	Offset int64 // byte offset in the uncompressed text
	Msg    string
}

func (e *Error) Error() string {
	if e.Record < 0 {
		return fmt.Sprintf("byte %d: %s", e.Offset, e.Msg)
	}
	return fmt.Sprintf("record %d (0-based), byte %d: %s", e.Record, e.Offset, e.Msg)
}

// Read parses an uncompressed reference array from r. Every coordinate
// must be a JSON number with at most 4 decimal places (it is stored as
// int16 at scale 10000, exactly) and in the range the search supports
// (vector.InRange); every label "fraud" or "legit"; every vector exactly
// vector.Dims long. The first violation stops the read with an *Error naming
// the record.
func Read(r io.Reader) (*Set, error) {
	h := sha256.New()
	p := &parser{r: r, hash: h, buf: make([]byte, 0, 1<<20), rec: -1}
	set := &Set{Vecs: make([]int16, 0, 1<<20), Labels: make([]uint8, 0, 1<<16)}
	if err := p.array(set); err != nil {
		return nil, err
	}
	set.Bytes = p.base + int64(p.i)
	copy(set.SHA256[:], h.Sum(nil))
	return set, nil
}

// parser is a small streaming JSON scanner for one schema. It keeps at
// least maxToken bytes ahead of the cursor in buf whenever the input has
// them, so a token is always whole in memory.
type parser struct {
	r    io.Reader
	hash hash.Hash
	buf  []byte
	i    int   // cursor in buf
	base int64 // stream offset of buf[0]
	eof  bool
	err  error
	rec  int // record being read, -1 outside
}

const maxToken = 128

func (p *parser) fail(format string, args ...any) error {
	if p.err != nil {
		return p.err
	}
	return &Error{Record: p.rec, Offset: p.base + int64(p.i), Msg: fmt.Sprintf(format, args...)}
}

// need makes sure buf holds n bytes past the cursor if the input has them.
func (p *parser) need(n int) {
	if len(p.buf)-p.i >= n || p.eof {
		return
	}
	rest := copy(p.buf, p.buf[p.i:])
	p.base += int64(p.i)
	p.buf = p.buf[:rest]
	p.i = 0
	for len(p.buf)-p.i < n && !p.eof {
		m, err := p.r.Read(p.buf[len(p.buf):cap(p.buf)])
		p.hash.Write(p.buf[len(p.buf) : len(p.buf)+m])
		p.buf = p.buf[:len(p.buf)+m]
		if err == io.EOF {
			p.eof = true
		} else if err != nil {
			p.eof = true
			p.err = fmt.Errorf("reading byte %d: %w", p.base+int64(len(p.buf)), err)
		}
	}
}

// peek returns the next non-space byte without consuming it, 0 at the end.
func (p *parser) peek() byte {
	for {
		p.need(maxToken)
		if p.i >= len(p.buf) {
			return 0
		}
		switch c := p.buf[p.i]; c {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return c
		}
	}
}

func (p *parser) expect(c byte, what string) error {
	if got := p.peek(); got != c {
		return p.fail("expected %s, found %s", what, describe(got))
	}
	p.i++
	return nil
}

func describe(c byte) string {
	if c == 0 {
		return "the end of the input"
	}
	return fmt.Sprintf("%q", c)
}

func (p *parser) array(set *Set) error {
	if err := p.expect('[', "'[' opening the array of references"); err != nil {
		return err
	}
	if p.peek() == ']' {
		p.i++
	} else {
		for {
			p.rec = set.Len()
			if err := p.record(set); err != nil {
				return err
			}
			c := p.peek()
			if c == ']' {
				p.i++
				break
			}
			if c != ',' {
				return p.fail("expected ',' or ']' after a record, found %s", describe(c))
			}
			p.i++
		}
	}
	p.rec = -1
	if c := p.peek(); c != 0 {
		return p.fail("unexpected %s after the array", describe(c))
	}
	if p.err != nil {
		return p.err
	}
	if set.Len() == 0 {
		return p.fail("the array holds no references")
	}
	return nil
}

func (p *parser) record(set *Set) error {
	if err := p.expect('{', "'{' opening a record"); err != nil {
		return err
	}
	var haveVec, haveLabel bool
	for {
		key, err := p.str()
		if err != nil {
			return err
		}
		if err := p.expect(':', "':' after a key"); err != nil {
			return err
		}
		switch key {
		case "vector":
			if haveVec {
				return p.fail("duplicate key \"vector\"")
			}
			haveVec = true
			if err := p.vector(set); err != nil {
				return err
			}
		case "label":
			if haveLabel {
				return p.fail("duplicate key \"label\"")
			}
			haveLabel = true
			l, err := p.str()
			if err != nil {
				return err
			}
			switch l {
			case "fraud":
				set.Labels = append(set.Labels, 1)
			case "legit":
				set.Labels = append(set.Labels, 0)
			default:
				return p.fail("unknown label %q; want \"fraud\" or \"legit\"", l)
			}
		default:
			return p.fail("unexpected key %q; a record holds \"vector\" and \"label\"", key)
		}
		c := p.peek()
		if c == '}' {
			p.i++
			break
		}
		if c != ',' {
			return p.fail("expected ',' or '}' in a record, found %s", describe(c))
		}
		p.i++
	}
	if !haveVec || !haveLabel {
		missing := "vector"
		if haveVec {
			missing = "label"
		}
		return p.fail("record has no %q", missing)
	}
	return nil
}

func (p *parser) vector(set *Set) error {
	if err := p.expect('[', "'[' opening a vector"); err != nil {
		return err
	}
	for d := 0; ; d++ {
		if d == vector.Dims {
			return p.fail("vector has more than %d numbers", vector.Dims)
		}
		v, err := p.fixed()
		if err != nil {
			return err
		}
		if !vector.InRange(d, v) {
			return p.fail("dimension %d is %s, outside the contract's range (only dimensions 5 and 6 may be negative; all lie in [-1, 1])", d, fixedString(v))
		}
		set.Vecs = append(set.Vecs, v)
		c := p.peek()
		if c == ']' {
			p.i++
			if d+1 != vector.Dims {
				return p.fail("vector has %d numbers; want %d", d+1, vector.Dims)
			}
			return nil
		}
		if c != ',' {
			return p.fail("expected ',' or ']' in a vector, found %s", describe(c))
		}
		p.i++
	}
}

func fixedString(v int16) string {
	s := fmt.Sprintf("%.4f", float64(v)/vector.Scale)
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

// str reads a JSON string of at most maxToken-2 bytes; keys and labels
// are short. It decodes the escapes \" \\ and \/ and refuses the rest,
// which no key or label of this schema needs.
func (p *parser) str() (string, error) {
	if c := p.peek(); c != '"' {
		return "", p.fail("expected a string, found %s", describe(c))
	}
	p.i++
	var out []byte
	for j := p.i; j < len(p.buf); j++ {
		c := p.buf[j]
		switch {
		case c == '"':
			s := string(append(out, p.buf[p.i:j]...))
			p.i = j + 1
			return s, nil
		case c == '\\':
			if j+1 >= len(p.buf) || !strings.ContainsRune(`"\/`, rune(p.buf[j+1])) {
				return "", p.fail("unsupported escape in a key or label")
			}
			out = append(out, p.buf[p.i:j]...)
			out = append(out, p.buf[j+1])
			j++
			p.i = j + 1
		case c < 0x20:
			return "", p.fail("control character in a string")
		}
	}
	return "", p.fail("string longer than %d bytes or unterminated", maxToken-2)
}

// fixed reads a JSON number and returns it at scale 10000, exactly. It
// refuses a number with more than 4 significant decimal places, since it
// cannot be stored exactly, and one far out of range.
func (p *parser) fixed() (int16, error) {
	p.peek()
	b := p.buf[p.i:]
	j := 0
	neg := j < len(b) && b[j] == '-'
	if neg {
		j++
	}
	// value = mant · 10^exp10, built from the significant digits.
	var mant int64
	exp10 := 0
	const limit = 1e15 // far beyond any value in range, far below overflow
	digit := func(c byte) bool {
		if mant >= limit {
			return false
		}
		mant = mant*10 + int64(c-'0')
		return true
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
		if j < len(b) && b[j] >= '0' && b[j] <= '9' {
			return 0, p.fail("number has a leading zero")
		}
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
			if !digit(b[j]) {
				return 0, p.fail("number is out of range")
			}
		}
	default:
		return 0, p.fail("expected a number, found %s", describe(p.peek()))
	}
	if j < len(b) && b[j] == '.' {
		j++
		first, zeros := j, 0
		for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
			if b[j] == '0' { // trailing zeros change nothing; hold them back
				zeros++
				continue
			}
			for ; zeros > 0; zeros-- {
				if !digit('0') {
					return 0, p.fail("number has too many digits")
				}
				exp10--
			}
			if !digit(b[j]) {
				return 0, p.fail("number has too many digits")
			}
			exp10--
		}
		if j == first {
			return 0, p.fail("number has no digits after the decimal point")
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		eneg := j < len(b) && b[j] == '-'
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		first, e := j, 0
		for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
			e = min(e*10+int(b[j]-'0'), 1000)
		}
		if j == first {
			return 0, p.fail("number has an empty exponent")
		}
		if eneg {
			e = -e
		}
		exp10 += e
	}
	if j == len(b) && !p.eof {
		return 0, p.fail("number longer than %d bytes", maxToken)
	}
	p.i += j
	// Scale by 10⁴: shift = exp10 + 4 decimal places to the left.
	v := mant
	for shift := exp10 + 4; shift != 0 && v != 0; {
		if shift > 0 {
			if v *= 10; v > 1e6 {
				return 0, p.fail("number is out of range")
			}
			shift--
		} else {
			if v%10 != 0 {
				return 0, p.fail("number has more than 4 decimal places; the artifact stores values at scale 10000 exactly")
			}
			v /= 10
			shift++
		}
	}
	if v > 32767 {
		return 0, p.fail("number is out of range")
	}
	if neg {
		v = -v
	}
	return int16(v), nil
}
