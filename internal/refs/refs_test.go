package refs

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"fraudknn/internal/testenv"
)

const one = `{"vector":[0.01,0.0833,0.05,0.8261,0.1667,-1,-1,0.0432,0.25,0,1,0,0.2,0.0416],"label":"legit"}`

func TestReadExact(t *testing.T) {
	in := "[" + one + `, {"label":"fraud","vector":[1, 0.5e0, 5E-1, 0.00010, 1.0000, 0.99990, -0.0, 1e-4, 0, 0, 1, 1, 0.75, 100e-2]}]`
	// One byte per Read: every token straddles a buffer refill.
	set, err := Read(iotest.OneByteReader(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	want := []int16{
		100, 833, 500, 8261, 1667, -10000, -10000, 432, 2500, 0, 10000, 0, 2000, 416,
		10000, 5000, 5000, 1, 10000, 9999, 0, 1, 0, 0, 10000, 10000, 7500, 10000,
	}
	if !equal(set.Vecs, want) || !bytes.Equal(set.Labels, []uint8{0, 1}) {
		t.Fatalf("got %v %v\nwant %v [0 1]", set.Vecs, set.Labels, want)
	}
	if set.SHA256 != sha256.Sum256([]byte(in)) || set.Bytes != int64(len(in)) {
		t.Fatalf("checksum or length of the text is wrong")
	}
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReadRejects(t *testing.T) {
	vec := func(s string) string { return `[{"vector":[` + s + `],"label":"legit"}]` }
	const v13 = `0,0,0,0,0,0,0,0,0,0,0,0,0`
	cases := []struct{ in, want string }{
		{``, "expected '['"},
		{`[]`, "no references"},
		{`[` + one, "expected ',' or ']'"},
		{`[` + one + `]x`, "after the array"},
		{`[` + one + `,]`, "expected '{'"},
		{vec(v13), "13 numbers; want 14"},
		{vec(v13 + `,0,0`), "more than 14"},
		{vec(v13 + `,0.00005`), "more than 4 decimal places"},
		{vec(v13 + `,1.5`), "outside the contract's range"},
		{vec(`-0.5,` + v13), "outside the contract's range"},
		{vec(v13 + `,01`), "leading zero"},
		{vec(v13 + `,.5`), "expected a number"},
		{vec(v13 + `,1.`), "no digits after the decimal point"},
		{vec(v13 + `,1e`), "empty exponent"},
		{vec(v13 + `,1e400`), "out of range"},
		{vec(v13 + `,"0"`), "expected a number"},
		{vec(v13 + `,NaN`), "expected a number"},
		{`[{"vector":[` + v13 + `,0],"label":"Fraud"}]`, `unknown label "Fraud"`},
		{`[{"vector":[` + v13 + `,0]}]`, `no "label"`},
		{`[{"label":"fraud"}]`, `no "vector"`},
		{`[{"label":"fraud","label":"legit"}]`, `duplicate key "label"`},
		{`[{"vector":[` + v13 + `,0],"label":"fraud","extra":1}]`, `unexpected key "extra"`},
	}
	for _, c := range cases {
		_, err := Read(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Read(%.60q): %v; want an error containing %q", c.in, err, c.want)
		}
	}
}

func TestErrorNamesTheRecord(t *testing.T) {
	in := "[" + one + "," + one + "," + strings.Replace(one, "legit", "benign", 1) + "]"
	_, err := Read(strings.NewReader(in))
	var e *Error
	if !errors.As(err, &e) || e.Record != 2 {
		t.Fatalf("error %v; want one naming record 2", err)
	}
}

// TestExampleReferences reads the official pretty-printed sample of the
// first 100 references.
func TestExampleReferences(t *testing.T) {
	path := testenv.DataFile(t, "example-references.json")
	set, err := ReadFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 100 {
		t.Fatalf("%d references; want 100", set.Len())
	}
	if got := set.Vecs[:14]; !equal(got, []int16{100, 833, 500, 8261, 1667, -10000, -10000, 432, 2500, 0, 10000, 0, 2000, 416}) {
		t.Fatalf("first vector %v", got)
	}
}
