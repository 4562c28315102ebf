package listen

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnixReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.sock")
	// A socket left behind: its listener closed without removing it.
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("the stale socket is not there to replace: %v", err)
	}

	ln, err := Unix(path, 0o660)
	if err != nil {
		t.Fatalf("a stale socket was not replaced: %v", err)
	}
	defer ln.Close()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %04o, want 0660", st.Mode().Perm())
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("cannot connect to the new socket: %v", err)
	}
	c.Close()
}

func TestUnixRefusesOtherFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ln, err := Addr("unix:"+path, 0o666); err == nil {
		ln.Close()
		t.Fatal("a regular file at the socket's path was replaced")
	} else if !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("error %q does not say the file is not a socket", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
		t.Errorf("the file was changed: %q, %v", b, err)
	}
}

func TestAddrTCP(t *testing.T) {
	ln, err := Addr("127.0.0.1:0", 0o666)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if ln.Addr().Network() != "tcp" {
		t.Errorf("127.0.0.1:0 opened a %s listener", ln.Addr().Network())
	}
}
