package vectorize

import (
	"unicode/utf16"
	"unicode/utf8"
)

// This file decodes the contents of strings that scanString has accepted,
// without allocating: one character at a time, or into a caller's buffer.

// nextRune decodes the character of the string contents s that starts at
// s[i] and returns it with the index of the next one. s must be valid
// (scanned) string contents.
//
// Escapes follow RFC 8259: \uXXXX escapes of a UTF-16 surrogate pair
// combine into one character, and a surrogate that is not part of a pair
// decodes as U+FFFD, the way encoding/json decodes it.
func nextRune(s []byte, i int) (rune, int) {
	c := s[i]
	if c != '\\' {
		if c < utf8.RuneSelf {
			return rune(c), i + 1
		}
		r, size := utf8.DecodeRune(s[i:])
		return r, i + size
	}
	switch s[i+1] {
	case 'b':
		return '\b', i + 2
	case 'f':
		return '\f', i + 2
	case 'n':
		return '\n', i + 2
	case 'r':
		return '\r', i + 2
	case 't':
		return '\t', i + 2
	case 'u':
		r := hex4(s[i+2:])
		if !utf16.IsSurrogate(r) {
			return r, i + 6
		}
		if i+12 <= len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
			if pair := utf16.DecodeRune(r, hex4(s[i+8:])); pair != utf8.RuneError {
				return pair, i + 12
			}
		}
		return utf8.RuneError, i + 6
	}
	return rune(s[i+1]), i + 2 // \" \\ \/
}

// hex4 decodes the 4 hexadecimal digits at the start of b.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// decodeInto decodes the string contents s into dst and returns the number
// of bytes written; ok is false, and the text cut short, when it does not
// fit.
func decodeInto(dst, s []byte) (n int, ok bool) {
	for i := 0; i < len(s); {
		var r rune
		r, i = nextRune(s, i)
		if n+utf8.RuneLen(r) > len(dst) {
			return n, false
		}
		n += utf8.EncodeRune(dst[n:], r)
	}
	return n, true
}

// equalDecoded reports whether the string contents a and b decode to the
// same text. Since both decode to valid UTF-8, equal characters one by one
// means equal bytes.
func equalDecoded(a, b []byte) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		var r, q rune
		r, i = nextRune(a, i)
		q, j = nextRune(b, j)
		if r != q {
			return false
		}
	}
	return i == len(a) && j == len(b)
}
