package vectorize

import "testing"

// TestSchema checks the invariants the parser relies on: siblings are
// listed together, after their parent, and every key fits maxKeyLen.
func TestSchema(t *testing.T) {
	for f := root + 1; f < numFields; f++ {
		info := schema[f]
		if info.name == "" || info.path == "" {
			t.Errorf("field %d has no name or path", f)
		}
		if len(info.name) > maxKeyLen {
			t.Errorf("%s is longer than maxKeyLen", info.name)
		}
		if info.parent >= f {
			t.Errorf("%s is listed before its parent", info.path)
		}
		if r := children[info.parent]; f < r.first || f >= r.end {
			t.Errorf("%s is outside its parent's children %d..%d", info.path, r.first, r.end)
		}
		if got := member(info.parent, []byte(info.name)); got != f {
			t.Errorf("member(%d, %q) = %d, want %d", info.parent, info.name, got, f)
		}
		want := info.name
		if info.parent != root {
			want = schema[info.parent].path + "." + info.name
		}
		if info.path != want {
			t.Errorf("path %q, want %q", info.path, want)
		}
	}
	for f := root; f < numFields; f++ {
		r := children[f]
		for c := r.first; c < r.end; c++ {
			if schema[c].parent != f {
				t.Errorf("children of %d include %s", f, schema[c].path)
			}
		}
	}
	if numFields > 32 {
		t.Errorf("%d fields do not fit the uint32 bitmask", numFields)
	}
}
