package e2e

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"fraudknn/harness/internal/compose"
	"fraudknn/internal/server"
)

// TestNginxBodyLimit keeps nginx's body limit equal to the API's.
func TestNginxBodyLimit(t *testing.T) {
	conf, err := os.ReadFile("../../nginx/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("client_max_body_size %dk;", server.MaxBodySize>>10)
	if !strings.Contains(string(conf), want) {
		t.Fatalf("nginx/nginx.conf lacks %q: nginx and the API must refuse the same bodies", want)
	}
	if !strings.Contains(string(conf), fmt.Sprintf(`request body larger than %d bytes`, server.MaxBodySize)) {
		t.Fatal("nginx's 413 answer does not give the API's limit")
	}
}

// TestProjectComposeFile checks the project's own docker-compose.yml.
func TestProjectComposeFile(t *testing.T) {
	f, err := compose.Load("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range append(f.Check(), f.CheckSockets("../../docker-compose.yml")...) {
		t.Error(err)
	}
	if b := f.Balancer(); b != "nginx" {
		t.Errorf("docker-compose.yml balances with %q; nginx is the default", b)
	}
	// api2 inherits api1's settings through a YAML merge key.
	l1, err1 := f.Limits("api1")
	l2, err2 := f.Limits("api2")
	if err1 != nil || err2 != nil || l1 != l2 {
		t.Fatalf("api1 %v %v, api2 %v %v: want equal limits", l1, err1, l2, err2)
	}
}

// TestFDPassComposeFile checks the alternative deployment, with cmd/lb
// in nginx's place.
func TestFDPassComposeFile(t *testing.T) {
	f, err := compose.Load("../../docker-compose.fdpass.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range append(f.Check(), f.CheckSockets("../../docker-compose.fdpass.yml")...) {
		t.Error(err)
	}
	if b := f.Balancer(); b != "lb" {
		t.Errorf("docker-compose.fdpass.yml balances with %q, want lb", b)
	}
}

// TestImageNameFromTheMakefile keeps the API image the compose files run
// equal to the Makefile's IMAGE, which make image builds and make push
// pushes, or to that image pinned in a registry (REGISTRY/IMAGE@sha256:…,
// docs/DEPLOY.md).
func TestImageNameFromTheMakefile(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^IMAGE\s*\?=\s*(\S+)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("the Makefile sets no IMAGE ?= name:tag")
	}
	image := string(m[1])
	pinned := regexp.MustCompile(`/` + regexp.QuoteMeta(image) + `@sha256:[0-9a-f]{64}$`)
	for _, file := range []string{"docker-compose.yml", "docker-compose.fdpass.yml"} {
		f, err := compose.Load("../../" + file)
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range f.Services {
			if name == "nginx" {
				continue
			}
			if s.Image != image && !pinned.MatchString(s.Image) {
				t.Errorf("%s: service %s runs %q; the Makefile builds and pushes %q", file, name, s.Image, image)
			}
		}
	}
}
