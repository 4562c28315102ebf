// Package listen opens the listeners of cmd/api and cmd/lb: a TCP address
// or a Unix socket, where a socket file left by an earlier run is
// replaced and anything else at the path is refused.
package listen

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
)

// Addr opens addr: "unix:/path/to.sock" for a Unix socket (Unix, made
// mode perm), else a TCP host:port.
func Addr(addr string, perm fs.FileMode) (net.Listener, error) {
	path, ok := strings.CutPrefix(addr, "unix:")
	if !ok {
		return net.Listen("tcp", addr)
	}
	return Unix(path, perm)
}

// Unix opens a Unix socket at path with mode perm. A socket file already
// at path (left by a process that did not close its listener) is
// replaced; any other file there is refused, so that a mistyped path
// never deletes data.
func Unix(path string, perm fs.FileMode) (*net.UnixListener, error) {
	if st, err := os.Lstat(path); err == nil {
		if st.Mode()&fs.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket; refusing to replace it", path)
		}
		os.Remove(path)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, perm); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}
