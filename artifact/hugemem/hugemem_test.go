package hugemem

import (
	"runtime/debug"
	"testing"
	"unsafe"
)

func TestAlloc(t *testing.T) {
	for _, size := range []int{1, PageSize - 1, PageSize, PageSize + 1, 3*PageSize + 100} {
		m, err := Alloc(size)
		if err != nil {
			t.Fatalf("Alloc(%d): %v", size, err)
		}
		if len(m.Data) != size {
			t.Errorf("Alloc(%d): %d bytes of data", size, len(m.Data))
		}
		if len(m.Pages)%PageSize != 0 || len(m.Pages) < size || len(m.Pages) >= size+PageSize {
			t.Errorf("Alloc(%d): Pages is %d bytes; want the size rounded up to huge pages", size, len(m.Pages))
		}
		if addr := uintptr(unsafe.Pointer(&m.Data[0])); addr%PageSize != 0 || &m.Pages[0] != &m.Data[0] {
			t.Errorf("Alloc(%d): data at %#x, not at the start of a huge page", size, addr)
		}
		for i := range m.Data {
			if m.Data[i] != 0 {
				t.Fatalf("Alloc(%d): byte %d is %d, not zero", size, i, m.Data[i])
			}
		}
		m.Data[0], m.Data[size-1] = 1, 2
		if h := Backed(m.Pages); h < 0 || h > int64(len(m.Pages)) {
			t.Errorf("Alloc(%d): Backed = %d for %d bytes of pages", size, h, len(m.Pages))
		}
		if err := m.Free(); err != nil {
			t.Errorf("Free: %v", err)
		}
		if err := m.Free(); err != nil {
			t.Errorf("a second Free: %v", err)
		}
	}
	if _, err := Alloc(0); err == nil {
		t.Error("Alloc(0) succeeded; want an error")
	}
}

// TestReadOnly writes into memory made read-only: the write must fault.
func TestReadOnly(t *testing.T) {
	m, err := Alloc(100)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Free()
	m.Data[0] = 7
	if err := m.ReadOnly(); err != nil {
		t.Fatal(err)
	}
	if m.Data[0] != 7 {
		t.Fatalf("the memory lost its contents: %d", m.Data[0])
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	faulted := func() (faulted bool) {
		defer func() { faulted = recover() != nil }()
		m.Data[1] = 1
		return false
	}()
	if !faulted {
		t.Fatal("a write into read-only memory succeeded")
	}
}

func TestSmapsHuge(t *testing.T) {
	smaps := `7f0000000000-7f0000400000 r--p 00000000 00:00 0
Size:               4096 kB
AnonHugePages:      2048 kB
VmFlags: rd mr mw me ac hg
7f0000400000-7f0000600000 rw-p 00000000 00:00 0
AnonHugePages:      2048 kB
`
	if got := smapsHuge([]byte(smaps), 0x7f0000000000); got != 2<<20 {
		t.Errorf("first mapping: %d huge bytes, want %d", got, 2<<20)
	}
	if got := smapsHuge([]byte(smaps), 0x7f0000100000); got != -1 {
		t.Errorf("an address no mapping starts at: %d, want -1", got)
	}
	if got := Backed(nil); got != -1 {
		t.Errorf("Backed(nil) = %d, want -1", got)
	}
}
