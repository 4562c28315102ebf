package vectorize

import (
	"math"
	"strconv"
	"unsafe"
)

// parser reads one request body. It lives on the caller's stack: values are
// stored in fixed arrays indexed by field, strings are kept as spans of the
// body, and nothing is allocated unless an error is returned.
type parser struct {
	buf []byte // the body
	pos int    // the cursor: index of the next unread byte of buf

	seen    uint32 // bitmask of the known fields met so far
	hasLast bool   // last_transaction is an object (not null, not absent)

	num  [numFields]float64 // values of kindNumber fields
	flag [numFields]bool    // values of kindBool fields
	when [numFields]instant // values of kindTimestamp fields
	str  [numFields]span    // values of kindString and kindStringArray fields
	at   [numFields]int     // where each value starts, for errors found after the parse

	keyBuf  [maxKeyLen]byte       // a key decoded from escapes
	textBuf [maxTimestampLen]byte // a timestamp decoded from escapes
}

// span is where a string or an array is in the body: for a string, its
// contents between the quotes; for an array, from '[' to just past ']'.
type span struct {
	start, end int
	escaped    bool // the string contains at least one backslash escape
}

// parse reads the whole body: the top-level object and its sections.
//
// The top level is walked here and each section by section, without
// recursion; only skipValue recurses, to skip unknown values of any shape.
func (p *parser) parse() *Error {
	p.skipSpace()
	if p.pos == len(p.buf) {
		return p.fail(root, p.pos, "empty body")
	}
	if p.buf[p.pos] != '{' {
		return p.mismatch(root)
	}
	p.pos++
	for first := true; ; first = false {
		key, keyAt, more, err := p.nextMember(root, first)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		m := member(root, key)
		switch {
		case m == root:
			err = p.skipValue(root, depth(root)+1)
		case p.seen&m.bit() != 0:
			err = p.fail(m, keyAt, reasonDuplicate)
		default:
			p.seen |= m.bit()
			err = p.topLevelValue(m)
		}
		if err != nil {
			return err
		}
	}
	if err := p.required(root, p.pos-1); err != nil {
		return err
	}
	p.skipSpace()
	if p.pos != len(p.buf) {
		return p.fail(root, p.pos, "unexpected data after the JSON object")
	}
	return nil
}

// topLevelValue parses the value of f, a member of the top-level object.
func (p *parser) topLevelValue(f field) *Error {
	if p.pos == len(p.buf) {
		return p.eof(f)
	}
	switch schema[f].kind {
	case kindObject:
		return p.section(f)
	case kindObjectOrNull:
		if p.buf[p.pos] == 'n' {
			return p.literal(f, "null")
		}
		p.hasLast = true
		return p.section(f)
	default:
		return p.leaf(f)
	}
}

// section parses the object of f, a section such as "transaction", whose
// members are leaves.
func (p *parser) section(f field) *Error {
	if p.buf[p.pos] != '{' {
		return p.mismatch(f)
	}
	p.pos++
	for first := true; ; first = false {
		key, keyAt, more, err := p.nextMember(f, first)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		m := member(f, key)
		switch {
		case m == root:
			err = p.skipValue(f, depth(f)+1)
		case p.seen&m.bit() != 0:
			err = p.fail(m, keyAt, reasonDuplicate)
		default:
			p.seen |= m.bit()
			err = p.leaf(m)
		}
		if err != nil {
			return err
		}
	}
	return p.required(f, p.pos-1)
}

// required reports the first required child of f that was not seen, as
// missing at closeAt, the offset of f's closing brace.
func (p *parser) required(f field, closeAt int) *Error {
	for m := children[f].first; m < children[f].end; m++ {
		if !schema[m].optional && p.seen&m.bit() == 0 {
			return p.fail(m, closeAt, reasonMissing)
		}
	}
	return nil
}

// leaf parses and stores the value of f, a field that is not an object.
func (p *parser) leaf(f field) *Error {
	if p.pos == len(p.buf) {
		return p.eof(f)
	}
	p.at[f] = p.pos
	var err *Error
	switch schema[f].kind {
	case kindNumber:
		p.num[f], err = p.number(f)
	case kindBool:
		p.flag[f], err = p.boolean(f)
	case kindString:
		p.str[f], err = p.string(f)
	case kindTimestamp:
		p.when[f], err = p.timestamp(f)
	case kindStringArray:
		p.str[f], err = p.stringArray(f)
	}
	return err
}

// mismatch reports that the value at p.pos is not of f's kind, e.g.
// "expected a number, got a string". A value that is not valid JSON either
// is reported as the syntax error it is.
func (p *parser) mismatch(f field) *Error {
	want := expected[schema[f].kind]
	start := p.pos
	got := describeValue(p.buf[start])
	if got == "" {
		return p.unexpected(f, want)
	}
	if p.skipValue(f, depth(f)) != nil {
		// Not even a well-formed value: say what was wanted, and the byte
		// found instead.
		p.pos = start
		return p.unexpected(f, want)
	}
	return p.compose(f, start).add("expected ").add(want).add(", got ").add(got).done()
}

// describeValue names the kind of JSON value that starts with c, or returns
// "" when no value starts with c.
func describeValue(c byte) string {
	switch c {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a number"
	}
	return ""
}

// number parses a finite JSON number.
func (p *parser) number(f field) (float64, *Error) {
	c := p.buf[p.pos]
	if c != '-' && !isDigit(c) {
		return 0, p.mismatch(f)
	}
	start := p.pos
	if err := p.scanNumber(f); err != nil {
		return 0, err
	}
	// The grammar is checked, so ParseFloat can only fail by overflow. It
	// reads the bytes in place through a string view; it does not keep the
	// string, and the body outlives the call.
	text := p.buf[start:p.pos]
	v, err := strconv.ParseFloat(unsafe.String(&text[0], len(text)), 64)
	if err != nil || math.IsInf(v, 0) { // a range error: beyond ±1.8e308
		return 0, p.fail(f, start, reasonNotFinite)
	}
	return v, nil
}

// boolean parses true or false.
func (p *parser) boolean(f field) (bool, *Error) {
	switch p.buf[p.pos] {
	case 't':
		return true, p.literal(f, "true")
	case 'f':
		return false, p.literal(f, "false")
	}
	return false, p.mismatch(f)
}

// string parses a string and returns where its contents are.
func (p *parser) string(f field) (span, *Error) {
	if p.buf[p.pos] != '"' {
		return span{}, p.mismatch(f)
	}
	return p.scanString(f)
}

// stringArray parses an array of strings and returns where it is, so that
// its elements can be read again once the whole body is known.
func (p *parser) stringArray(f field) (span, *Error) {
	if p.buf[p.pos] != '[' {
		return span{}, p.mismatch(f)
	}
	start := p.pos
	p.pos++
	for first := true; ; first = false {
		more, err := p.nextElement(f, first)
		if err != nil {
			return span{}, err
		}
		if !more {
			break
		}
		if c := p.buf[p.pos]; c != '"' {
			got := describeValue(c)
			if got == "" {
				return span{}, p.unexpected(f, "a string")
			}
			at := p.pos
			if err := p.skipValue(f, depth(f)+1); err != nil {
				return span{}, err
			}
			return span{}, p.compose(f, at).add("expected only strings in the array, got ").add(got).done()
		}
		if _, err := p.scanString(f); err != nil {
			return span{}, err
		}
	}
	return span{start: start, end: p.pos}, nil
}

// timestamp parses a string holding an RFC 3339 date-time.
func (p *parser) timestamp(f field) (instant, *Error) {
	if p.buf[p.pos] != '"' {
		return instant{}, p.mismatch(f)
	}
	at := p.pos
	s, err := p.scanString(f)
	if err != nil {
		return instant{}, err
	}
	text, ok := p.decode(s, p.textBuf[:])
	t, why := parseTimestamp(text)
	if !ok { // text is cut short, still longer than the excerpt quotes
		why = reasonTimestampTooLong
	}
	if why != "" {
		return instant{}, p.compose(f, at).add("invalid timestamp ").excerpt(text).add(": ").add(why).done()
	}
	return t, nil
}

// nextMember moves to the next member of an object whose '{' has been
// read (first is true right after it), reads its key and the ':' and
// returns the key decoded. It returns more == false after reading the
// closing '}'. The key is nil when it is longer than any key of the schema;
// it aliases the body or p.keyBuf, so it is valid until the next key.
func (p *parser) nextMember(f field, first bool) (key []byte, keyAt int, more bool, err *Error) {
	p.skipSpace()
	if p.pos == len(p.buf) {
		return nil, 0, false, p.eof(f)
	}
	switch c := p.buf[p.pos]; {
	case c == '}':
		p.pos++
		return nil, 0, false, nil
	case first && c != '"':
		return nil, 0, false, p.unexpected(f, "a quoted key or '}'")
	case !first && c != ',':
		return nil, 0, false, p.unexpected(f, "',' or '}' after an object member")
	case !first:
		p.pos++
		p.skipSpace()
		if p.pos == len(p.buf) {
			return nil, 0, false, p.eof(f)
		}
		if p.buf[p.pos] != '"' {
			return nil, 0, false, p.unexpected(f, "a quoted key after ','")
		}
	}
	keyAt = p.pos
	s, err := p.scanString(f)
	if err != nil {
		return nil, 0, false, err
	}
	key, ok := p.decode(s, p.keyBuf[:])
	if !ok {
		key = nil // longer than any known key
	}
	p.skipSpace()
	if p.pos == len(p.buf) {
		return nil, 0, false, p.eof(f)
	}
	if p.buf[p.pos] != ':' {
		return nil, 0, false, p.unexpected(f, "':' after the key")
	}
	p.pos++
	p.skipSpace()
	return key, keyAt, true, nil
}

// nextElement moves to the next element of an array whose '[' has been
// read (first is true right after it). It returns more == true with p.pos at
// the element, which is not the end of the body, or more == false after
// reading the closing ']'.
func (p *parser) nextElement(f field, first bool) (more bool, err *Error) {
	p.skipSpace()
	if p.pos == len(p.buf) {
		return false, p.eof(f)
	}
	switch c := p.buf[p.pos]; {
	case c == ']':
		p.pos++
		return false, nil
	case !first && c != ',':
		return false, p.unexpected(f, "',' or ']' after an array element")
	case !first:
		p.pos++
		p.skipSpace()
		if p.pos == len(p.buf) {
			return false, p.eof(f)
		}
	}
	return true, nil
}

// skipValue checks and skips any JSON value inside f, at nesting depth d
// (the top-level object being at depth 1).
func (p *parser) skipValue(f field, d int) *Error {
	if p.pos == len(p.buf) {
		return p.eof(f)
	}
	switch c := p.buf[p.pos]; c {
	case '{':
		if d > maxDepth {
			return p.fail(f, p.pos, reasonTooDeep)
		}
		p.pos++
		for first := true; ; first = false {
			_, _, more, err := p.nextMember(f, first)
			if err != nil || !more {
				return err
			}
			if err := p.skipValue(f, d+1); err != nil {
				return err
			}
		}
	case '[':
		if d > maxDepth {
			return p.fail(f, p.pos, reasonTooDeep)
		}
		p.pos++
		for first := true; ; first = false {
			more, err := p.nextElement(f, first)
			if err != nil || !more {
				return err
			}
			if err := p.skipValue(f, d+1); err != nil {
				return err
			}
		}
	case '"':
		_, err := p.scanString(f)
		return err
	case 't':
		return p.literal(f, "true")
	case 'f':
		return p.literal(f, "false")
	case 'n':
		return p.literal(f, "null")
	default:
		if c == '-' || isDigit(c) {
			return p.scanNumber(f)
		}
		return p.unexpected(f, "a value")
	}
}

// merchantKnown reports whether merchant.id is one of
// customer.known_merchants, comparing decoded strings. It runs after the
// parse, because the two may come in either order; the array is known to
// be valid by then, so it is read without checks.
func (p *parser) merchantKnown() bool {
	id := p.str[fieldMerchantID]
	i := p.str[fieldKnownMerchants].start + 1 // just past '['
	for {
		// Between elements there are only whitespace and commas.
		for p.buf[i] != '"' && p.buf[i] != ']' {
			i++
		}
		if p.buf[i] == ']' {
			return false
		}
		elem := validatedString(p.buf, i)
		if p.sameText(id, elem) {
			return true
		}
		i = elem.end + 1
	}
}

// sameText reports whether two strings of the body decode to the same text.
func (p *parser) sameText(a, b span) bool {
	x, y := p.buf[a.start:a.end], p.buf[b.start:b.end]
	if !a.escaped && !b.escaped {
		return string(x) == string(y)
	}
	return equalDecoded(x, y)
}

// decode returns the text of string s: the body's bytes when s has no
// escapes, otherwise s decoded into dst. ok is false when the decoded text
// does not fit in dst.
func (p *parser) decode(s span, dst []byte) (text []byte, ok bool) {
	raw := p.buf[s.start:s.end]
	if !s.escaped {
		return raw, true
	}
	n, ok := decodeInto(dst, raw)
	return dst[:n], ok
}

// decoded returns the text of string field f, decoded into dst if need be;
// ok is false when it does not fit in dst.
func (p *parser) decoded(f field, dst []byte) (text []byte, ok bool) {
	return p.decode(p.str[f], dst)
}
