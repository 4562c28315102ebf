package compose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckCatchesEveryRule(t *testing.T) {
	good, err := os.ReadFile("../../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, from, to, want string }{
		{"over the CPU budget", `cpus: "0.3"`, `cpus: "0.4"`, "CPUs; the budget"},
		{"over the memory budget", "memory: 30MB", "memory: 40MB", "MiB; the budget"},
		{"privileged", "read_only: true", "read_only: true\n    privileged: true", "privileged"},
		{"host network", "    networks:\n      - public\n", "    network_mode: host\n", "network_mode"},
		{"seccomp override", "      - no-new-privileges:true\n", "      - no-new-privileges:true\n      - seccomp=unconfined\n", "seccomp"},
		{"root API", `user: "65534:65534"`, `user: "0:0"`, "api1 runs as root"},
		{"API with no user", "    user: \"65534:65534\"\n", "", "api1 runs as root"},
		{"root nginx", `user: "101:101"`, `user: "root"`, "nginx runs as root"},
		{"writable nginx", "read_only: true", "read_only: false", "nginx has a writable root"},
		{"writable API", "    read_only: true\n    volumes:\n      - sockets", "    read_only: false\n    volumes:\n      - sockets", "api1 has a writable root"},
		{"added capability", "cap_drop: [ALL]", "cap_drop: [ALL]\n    cap_add: [NET_ADMIN]", "adds capabilities"},
		{"nginx keeps its capabilities", "    cap_drop: [ALL]\n", "", "nginx does not drop all capabilities"},
		{"an API keeps some", "      - operator\n    # The API needs no capability: it maps its artifact, listens on a\n    # Unix socket in a folder its user owns, and starts no process.\n    cap_drop: [ALL]", "      - operator\n    cap_drop: [NET_RAW]", "api1 does not drop all capabilities"},
		{"no-new-privileges off", "      - no-new-privileges:true\n", "      - no-new-privileges:false\n", "no-new-privileges"},
		{"no process limit", "          pids: 16\n", "", "nginx has no limit on its processes"},
		{"APIs on a network with a route out", "    internal: true\n", "", "not internal"},
		{"an API on the default network", "    networks:\n      - operator\n", "", "api1 is on the default network"},
		{"an API publishing a port", "    networks:\n      - operator\n", "    ports:\n      - \"9101:9101\"\n    networks:\n      - operator\n", "api1 publishes ports"},
		{"no port 9999", `"9999:9999"`, `"8080:9999"`, "port 9999"},
		{"no limits", "memory: 30MB", "", "limits"},
		{"overlay network", "driver: bridge", "driver: overlay", "bridge only"},
		{"latest tag", "image: nginx:1.27.4-alpine", "image: nginx:latest", "pin a version tag"},
		{"untagged image", "image: fraudknn-api:0.1.0", "image: fraudknn-api", "pin a version tag"},
		{"digest without a tag", "image: fraudknn-api:0.1.0", "image: registry.example/me/fraudknn-api@sha256:" + strings.Repeat("ab", 32), "pin a version tag"},
		{"malformed digest", "image: fraudknn-api:0.1.0", "image: registry.example/me/fraudknn-api:0.1.0@sha256:abc", "a digest is"},
		{"no pull_policy", "    pull_policy: missing\n    restart: unless-stopped\n", "    restart: unless-stopped\n", "pull_policy"},
		{"no restart policy", "    restart: unless-stopped\n", "", "restart"},
		{"restart only on failure", "    restart: unless-stopped\n", "    restart: on-failure\n", "restart"},
	}
	for _, c := range cases {
		text := strings.Replace(string(good), c.from, c.to, 1)
		if text == string(good) {
			t.Fatalf("%s: the test's edit does not apply to docker-compose.yml", c.name)
		}
		path := filepath.Join(t.TempDir(), "docker-compose.yml")
		os.WriteFile(path, []byte(text), 0o644)
		f, err := Load(path)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		found := false
		for _, err := range f.Check() {
			found = found || strings.Contains(err.Error(), c.want)
		}
		if !found {
			t.Errorf("%s: Check found nothing mentioning %q (%v)", c.name, c.want, f.Check())
		}
	}
}

// TestCheckAcceptsAPinnedImage: a registry name with tag and digest, as
// docs/DEPLOY.md pins the pushed image, breaks no rule.
func TestCheckAcceptsAPinnedImage(t *testing.T) {
	good, err := os.ReadFile("../../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	pinned := "image: registry.example:5000/me/fraudknn-api:0.1.0@sha256:" + strings.Repeat("0f", 32)
	path := filepath.Join(t.TempDir(), "docker-compose.yml")
	os.WriteFile(path, []byte(strings.ReplaceAll(string(good), "image: fraudknn-api:0.1.0", pinned)), 0o644)
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if errs := f.Check(); len(errs) > 0 {
		t.Errorf("the pinned file breaks rules: %v", errs)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"160MB": 160 << 20, "30m": 30 << 20, "1g": 1 << 30, "512": 512, "64kb": 64 << 10} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-5MB", "1.5g", "lots"} {
		if _, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) accepted", in)
		}
	}
}

// TestCheckSocketsCatchesEveryMismatch breaks the way the balancer and the
// APIs meet, in both deployments, one way at a time: an edit of the
// compose file (from, to) or of nginx's configuration (confFrom, confTo).
func TestCheckSocketsCatchesEveryMismatch(t *testing.T) {
	cases := []struct{ name, file, from, to, confFrom, confTo, want string }{
		{"socket volume missing from api2", "docker-compose.yml", "  api2:\n    <<: *api\n", "  api2:\n    <<: *api\n    volumes: []\n", "", "", "socket volume is missing from api2"},
		{"nginx without the volume", "docker-compose.yml", "      - sockets:/sockets\n    tmpfs:", "    tmpfs:", "", "", "nginx must mount it"},
		{"API on TCP", "docker-compose.yml", "unix:/sockets/api1.sock", "0.0.0.0:8080", "", "", "Unix socket"},
		{"nginx at a socket no API creates", "docker-compose.yml", "", "", "unix:/sockets/api2.sock", "unix:/sockets/api3.sock", "no API creates"},
		{"fdpass: socket volume missing from api2", "docker-compose.fdpass.yml", "  api2:\n    <<: *api\n", "  api2:\n    <<: *api\n    volumes: []\n", "", "", "socket volume is missing from api2"},
		{"fdpass: APIs register where lb does not listen", "docker-compose.fdpass.yml", `"-control", "/sockets/control/lb.sock"`, `"-control", "/sockets/control/lb2.sock"`, "", "", "no balancer creates"},
	}
	for _, c := range cases {
		path, err := WriteVariant("../../../"+c.file, t.TempDir(), Edit{c.from, c.to}, Edit{c.confFrom, c.confTo})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		f, err := Load(path)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		errs := f.CheckSockets(path)
		found := false
		for _, err := range errs {
			found = found || strings.Contains(err.Error(), c.want)
		}
		if !found {
			t.Errorf("%s: CheckSockets found nothing mentioning %q (%v)", c.name, c.want, errs)
		}
	}
	for _, file := range []string{"docker-compose.yml", "docker-compose.fdpass.yml"} {
		path := "../../../" + file
		f, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if errs := f.CheckSockets(path); len(errs) > 0 {
			t.Errorf("%s: %v", file, errs)
		}
	}
}
