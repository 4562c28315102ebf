// Package hugemem allocates memory outside the Go heap in transparent
// huge pages, and reports how much of a mapping the kernel backs with
// them.
//
// A search reaches random places of a 100 MiB index. In 4 KiB pages
// nearly every such access misses the TLB; in 2 MiB pages about fifty
// TLB entries cover all of it. artifact.CopyToHugePages copies the index into such
// memory, and research/probe measures reads from it.
package hugemem

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// PageSize is the size of a transparent huge page on amd64 and arm64
// with 4 KiB base pages.
const PageSize = 2 << 20

// Memory is an anonymous private mapping of zeroed memory.
type Memory struct {
	// Data is the memory asked for. It starts on a huge-page boundary.
	Data []byte
	// Pages is Data extended to a whole number of huge pages, so that
	// advice and protection cover whole pages and the kernel need not
	// split any.
	Pages []byte

	region []byte // the whole mapping, one huge page larger than Pages
}

// Alloc maps size bytes (size > 0) of zeroed, writable memory that
// starts on a huge-page boundary and asks the kernel to back it with
// transparent huge pages. The request is advice: where the kernel has
// them disabled the memory comes in ordinary pages and works the same
// (Backed says what the kernel gave). Pages appear as they are first
// written.
func Alloc(size int) (*Memory, error) {
	if size <= 0 {
		return nil, fmt.Errorf("hugemem: asked for %d bytes; want a positive size", size)
	}
	whole := (size + PageSize - 1) / PageSize * PageSize
	// One huge page more than needed, so that the data can start on a
	// huge-page boundary; the untouched slack costs nothing.
	region, err := unix.Mmap(-1, 0, whole+PageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("hugemem: mapping %d bytes: %w", whole+PageSize, err)
	}
	skip := 0
	if r := int(uintptr(unsafe.Pointer(&region[0])) % PageSize); r != 0 {
		skip = PageSize - r
	}
	pages := region[skip : skip+whole]
	_ = unix.Madvise(pages, unix.MADV_HUGEPAGE) // advice only, see above
	return &Memory{Data: pages[:size], Pages: pages, region: region}, nil
}

// ReadOnly makes the memory read-only: a later write faults.
func (m *Memory) ReadOnly() error {
	if err := unix.Mprotect(m.Pages, unix.PROT_READ); err != nil {
		return fmt.Errorf("hugemem: making %d bytes read-only: %w", len(m.Pages), err)
	}
	return nil
}

// Free unmaps the memory. Nothing may use it afterwards; a second Free
// does nothing.
func (m *Memory) Free() error {
	if m.region == nil {
		return nil
	}
	err := unix.Munmap(m.region)
	m.Data, m.Pages, m.region = nil, nil, nil
	return err
}

// Backed returns how many bytes of the mapping that starts at the first
// byte of b the kernel backs with huge pages, as /proc/self/smaps reports
// it (anonymous huge pages, or huge folios of the page cache for a mapped
// file), or -1 when it cannot tell. Memory.Pages and a whole mapped file
// are such mappings (the advice Alloc gives makes Pages a mapping of its
// own).
func Backed(b []byte) int64 {
	if len(b) == 0 {
		return -1
	}
	text, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return -1
	}
	return smapsHuge(text, uintptr(unsafe.Pointer(&b[0])))
}

// smapsHuge returns the AnonHugePages and FilePmdMapped bytes of the
// mapping that starts at addr in the smaps text b, or -1 if b has no
// such mapping.
func smapsHuge(b []byte, addr uintptr) int64 {
	want := strconv.FormatUint(uint64(addr), 16) + "-"
	found := false
	var total int64
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			if found {
				break // the next mapping
			}
			found = strings.HasPrefix(fields[0], want)
			continue
		}
		if found && len(fields) >= 2 && (fields[0] == "AnonHugePages:" || fields[0] == "FilePmdMapped:") {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				total += kb << 10
			}
		}
	}
	if !found {
		return -1
	}
	return total
}
