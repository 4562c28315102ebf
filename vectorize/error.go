package vectorize

import (
	"strconv"
	"unicode/utf8"
)

// Error is the error Vectorize returns: what is wrong, where.
type Error struct {
	Field  string // JSON path of the offending field, e.g. "transaction.amount"; "" for a syntax error not inside a known field
	Offset int    // byte offset in the body where the problem was detected
	Reason string // short and human, e.g. "expected a number, got a string"
}

// Error formats e on one line, e.g.
// `transaction.amount: expected a number, got a string (byte 45)`.
func (e *Error) Error() string {
	s := e.Reason + " (byte " + strconv.Itoa(e.Offset) + ")"
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	return s
}

// Reasons used in more than one place.
const (
	reasonEOF       = "unexpected end of input"
	reasonMissing   = "missing"
	reasonDuplicate = "duplicate key"
	reasonNotFinite = "number is not finite"
	reasonTooDeep   = "nesting deeper than 64"
)

// fail returns an *Error for field f at byte offset off.
func (p *parser) fail(f field, off int, reason string) *Error {
	return &Error{Field: f.path(), Offset: off, Reason: reason}
}

// eof reports that the body ended inside f.
func (p *parser) eof(f field) *Error {
	return p.fail(f, len(p.buf), reasonEOF)
}

// unexpected reports the byte at p.pos where the grammar wanted something
// else, described by want ("a value", "':' after the key", ...).
func (p *parser) unexpected(f field, want string) *Error {
	return p.compose(f, p.pos).add("expected ").add(want).add(", got ").byteName(p.buf[p.pos]).done()
}

// message is an *Error whose Reason is being composed from parts, in a
// buffer large enough for any reason, so that composing never grows it.
type message struct {
	err  Error
	text []byte               // the reason so far, in mem unless it outgrew it
	mem  [reasonCapacity]byte // room for any reason this package composes
}

// reasonCapacity fits the longest composed reason: a timestamp's, with a
// quoted excerpt of at most maxQuoted bytes.
const reasonCapacity = 128

// compose starts an error for field f at byte offset off.
func (p *parser) compose(f field, off int) *message {
	m := &message{err: Error{Field: f.path(), Offset: off}}
	m.text = m.mem[:0]
	return m
}

// add appends s to the reason.
func (m *message) add(s string) *message {
	m.text = append(m.text, s...)
	return m
}

// byteName appends a name for a byte of the body: 'x' when it is printable
// ASCII, "byte 0x.." otherwise.
func (m *message) byteName(c byte) *message {
	if c >= 0x20 && c < 0x7f {
		m.text = strconv.AppendQuoteRune(m.text, rune(c))
		return m
	}
	return m.add("byte ").hex(c)
}

// hex appends c as 0x followed by two hexadecimal digits.
func (m *message) hex(c byte) *message {
	const digits = "0123456789abcdef"
	m.text = append(m.text, '0', 'x', digits[c>>4], digits[c&15])
	return m
}

// maxQuoted is how many bytes, between the quotes and escapes included, an
// excerpt of the body in an error message may have.
const maxQuoted = 40

// excerpt appends s, a string's decoded contents (valid UTF-8), quoted in
// Go syntax, so that control and other unprintable characters are escaped
// and the message stays on one line. It keeps at most maxQuoted bytes
// between the quotes, cutting between characters and marking the cut
// with "...".
func (m *message) excerpt(s []byte) *message {
	m.text = append(m.text, '"')
	used := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		var buf [16]byte
		q := quoteChar(buf[:0], r)
		if used+len(q) > maxQuoted {
			return m.add(`"...`)
		}
		m.text = append(m.text, q...)
		used += len(q)
		i += size
	}
	return m.add(`"`)
}

// quoteChar appends r as it appears inside a double-quoted Go string.
// strconv quotes single characters between single quotes, which escapes '
// rather than ", so those two are handled here.
func quoteChar(b []byte, r rune) []byte {
	switch r {
	case '"':
		return append(b, '\\', '"')
	case '\'':
		return append(b, '\'')
	}
	start := len(b)
	b = strconv.AppendQuoteRune(b, r) // 'r', escaped if need be
	copy(b[start:], b[start+1:len(b)-1])
	return b[:len(b)-2] // without the single quotes
}

// done returns the composed error.
func (m *message) done() *Error {
	m.err.Reason = string(m.text)
	return &m.err
}
