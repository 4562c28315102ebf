package vectorize

import "unicode/utf8"

// This file holds the lexical layer of RFC 8259: whitespace, strings,
// numbers and the three literals. Each scan function starts at p.pos,
// checks the grammar and leaves p.pos just past what it read.

// skipSpace skips the four whitespace bytes JSON allows.
func (p *parser) skipSpace() {
	for p.pos < len(p.buf) {
		c := p.buf[p.pos]
		if c > ' ' || c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return
		}
		p.pos++
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f'
}

// literal reads the literal word (true, false or null) at p.pos.
func (p *parser) literal(f field, word string) *Error {
	for i := 0; i < len(word); i++ {
		if p.pos+i == len(p.buf) {
			return p.eof(f)
		}
		if p.buf[p.pos+i] != word[i] {
			return p.compose(f, p.pos).add("invalid literal, expected ").add(word).done()
		}
	}
	p.pos += len(word)
	return nil
}

// scanNumber reads a number with the grammar of RFC 8259:
//
//	[ "-" ] ( "0" | [1-9] *DIGIT ) [ "." 1*DIGIT ] [ ( "e" | "E" ) [ "+" | "-" ] 1*DIGIT ]
//
// so no leading "+", no leading zeros, no ".5", no "5.", no NaN, Infinity or
// hexadecimal.
func (p *parser) scanNumber(f field) *Error {
	b, i := p.buf, p.pos
	if b[i] == '-' {
		i++
	}
	switch {
	case i == len(b):
		return p.eof(f)
	case b[i] == '0':
		i++
		if i < len(b) && isDigit(b[i]) {
			return p.fail(f, i-1, "leading zero in number")
		}
	case isDigit(b[i]):
		i = skipDigits(b, i)
	default:
		return p.fail(f, i, "expected a digit after '-'")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i == len(b) {
			return p.eof(f)
		}
		if !isDigit(b[i]) {
			return p.fail(f, i, "expected a digit after the decimal point")
		}
		i = skipDigits(b, i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i == len(b) {
			return p.eof(f)
		}
		if !isDigit(b[i]) {
			return p.fail(f, i, "expected a digit in the exponent")
		}
		i = skipDigits(b, i)
	}
	p.pos = i
	return nil
}

// skipDigits returns the index of the first non-digit of b at or after i.
func skipDigits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// scanString reads a string and returns where its contents are. It rejects
// unescaped control characters, unknown escapes, malformed \u escapes and
// invalid UTF-8 (including UTF-8-encoded surrogates and overlong forms).
func (p *parser) scanString(f field) (span, *Error) {
	b := p.buf
	start := p.pos + 1 // past the opening quote
	escaped := false
	for i := start; ; {
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i == len(b) {
			return span{}, p.eof(f)
		}
		switch c := b[i]; {
		case c == '"':
			p.pos = i + 1
			return span{start: start, end: i, escaped: escaped}, nil
		case c == '\\':
			escaped = true
			n, err := p.escapeLen(f, i)
			if err != nil {
				return span{}, err
			}
			i += n
		case c < 0x20:
			return span{}, p.compose(f, i).add("control character ").hex(c).add(" in string (it must be escaped)").done()
		default: // a byte of a multi-byte UTF-8 sequence
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return span{}, p.fail(f, i, "invalid UTF-8 in string")
			}
			i += size
		}
	}
}

// plain marks the bytes that stand for themselves in a string: printable
// ASCII other than '"' and '\\'. scanString skips runs of them in a tight
// loop and looks closely only at the rest.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// escapeLen checks the escape sequence whose backslash is at b[i] and
// returns its length.
func (p *parser) escapeLen(f field, i int) (int, *Error) {
	b := p.buf
	if i+1 == len(b) {
		return 0, p.eof(f)
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		for j := i + 2; j < i+6; j++ {
			if j == len(b) {
				return 0, p.eof(f)
			}
			if !isHex(b[j]) {
				return 0, p.fail(f, i, `invalid \u escape in string: expected 4 hexadecimal digits`)
			}
		}
		return 6, nil
	}
	return 0, p.compose(f, i).add("invalid escape in string: backslash followed by ").byteName(b[i+1]).done()
}

// validatedString returns where the string whose opening quote is at
// b[at] is, for a string scanString has already accepted.
func validatedString(b []byte, at int) span {
	s := span{start: at + 1}
	i := s.start
	for b[i] != '"' {
		if b[i] == '\\' {
			s.escaped = true
			i++ // the escaped byte cannot end the string
		}
		i++
	}
	s.end = i
	return s
}
