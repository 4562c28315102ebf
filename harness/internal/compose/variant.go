package compose

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Edit replaces the first From with To; an empty From edits nothing.
type Edit struct{ From, To string }

// WriteVariant writes into dir a copy of the compose file at path, and of
// the nginx configuration beside it (nginx/nginx.conf), each with one
// edit, and the .env beside it (the artifact's pin) as it is, and returns
// the copy's path: a broken deployment for the tests of the checks. An
// edit that does not apply is an error.
func WriteVariant(path, dir string, composeEdit, confEdit Edit) (string, error) {
	out := filepath.Join(dir, filepath.Base(path))
	for _, e := range []struct {
		src, dst string
		edit     Edit
	}{
		{path, out, composeEdit},
		{filepath.Join(filepath.Dir(path), "nginx", "nginx.conf"), filepath.Join(dir, "nginx", "nginx.conf"), confEdit},
	} {
		b, err := os.ReadFile(e.src)
		if err != nil {
			return "", err
		}
		text := string(b)
		if e.edit.From != "" {
			if text = strings.Replace(text, e.edit.From, e.edit.To, 1); text == string(b) {
				return "", fmt.Errorf("the edit %q does not apply to %s", e.edit.From, e.src)
			}
		}
		if err := os.MkdirAll(filepath.Dir(e.dst), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(e.dst, []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	if env, err := os.ReadFile(filepath.Join(filepath.Dir(path), ".env")); err == nil {
		if err := os.WriteFile(filepath.Join(dir, ".env"), env, 0o644); err != nil {
			return "", err
		}
	}
	return out, nil
}
