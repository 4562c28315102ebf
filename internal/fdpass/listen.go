package fdpass

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"fraudknn/internal/listen"
)

// ListenControl opens the balancer's control socket at path, in a folder
// only uid (the APIs' uid, Balancer.TrustUID) can enter: the folder is
// made with mode 0700 and owned by uid when it is missing, and must be
// so when it exists. The socket gets mode 0600 and uid as its owner. A
// stale socket at path is replaced; anything else there is an error.
//
// The folder is the first gate: other users cannot even reach the
// socket. The peer check in ServeControl is the second, for processes
// that get past the first (root's, or those given CAP_DAC_OVERRIDE).
func ListenControl(path string, uid int) (*net.UnixListener, error) {
	dir := filepath.Dir(path)
	if err := controlFolder(dir, uid); err != nil {
		return nil, err
	}
	ln, err := listen.Unix(path, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot listen for APIs on %s: %w", path, err)
	}
	if err := ownSocket(path, uid); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// controlFolder makes dir (mode 0700, owned by uid) if it is missing,
// and checks that only uid can enter it.
func controlFolder(dir string, uid int) error {
	st, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(dir, 0o700); err != nil {
			return fmt.Errorf("cannot make the control socket's folder: %w", err)
		}
		if err := os.Chmod(dir, 0o700); err != nil { // whatever the umask
			return err
		}
		if err := os.Lchown(dir, uid, -1); err != nil {
			return fmt.Errorf("cannot give the control socket's folder %s to uid %d (-trust-uid): %w", dir, uid, err)
		}
		st, err = os.Lstat(dir)
	}
	if err != nil {
		return fmt.Errorf("the control socket's folder: %w", err)
	}
	return checkFolder(dir, st, uid)
}

// checkFolder refuses a folder other users can enter or change, or that
// another uid owns (its owner could open it to anyone).
func checkFolder(dir string, st fs.FileInfo, uid int) error {
	if !st.IsDir() {
		return fmt.Errorf("the control socket's folder %s is not a folder (%v); give -control a path in a folder of its own", dir, st.Mode().Type())
	}
	if owner := ownerOf(st); owner != uid {
		return fmt.Errorf("the control socket's folder %s belongs to uid %d, not to the APIs' uid %d (-trust-uid): `chown %d %s`, or give -control a path in a folder that does not exist yet", dir, owner, uid, uid, dir)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("the control socket's folder %s has mode %04o: other users could reach the socket; only its owner may enter it: `chmod 0700 %s`", dir, perm, dir)
	}
	return nil
}

// ownSocket gives the socket at path mode 0600 and the owner uid, and
// checks that it has them.
func ownSocket(path string, uid int) error {
	if err := os.Chmod(path, 0o600); err != nil {
		return err
	}
	if err := os.Lchown(path, uid, -1); err != nil {
		return fmt.Errorf("cannot give the control socket %s to uid %d (-trust-uid): %w", path, uid, err)
	}
	st, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("the control socket %s has mode %04o after it was set to 0600; refusing to serve it", path, perm)
	}
	return nil
}

func ownerOf(st fs.FileInfo) int {
	if st == nil {
		return -1
	}
	return int(st.Sys().(*syscall.Stat_t).Uid)
}
