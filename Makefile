# fraudknn: see README.md. `make test` runs every test; `make replay`
# checks every shared payload against the full artifact.

GO       ?= go
# bash, for set -o pipefail where go test is piped.
SHELL    := /bin/bash
DATA     ?= $(or $(FRAUDKNN_DATA),../shared/data)
# The official reference file: resources/ first, then the shared data folder.
REFS     ?= $(firstword $(wildcard resources/references.json.gz) $(wildcard $(DATA)/references.json.gz))
PAYLOADS ?= $(DATA)/test-data.json.gz
ARTIFACT ?= build/index.fknn
SEED     ?= 1
# The API image's name: the local default; make push prefixes REGISTRY.
IMAGE    ?= fraudknn-api:0.1.0

.PHONY: all build tools run observe observe-drill prometheus test-alerts score capacity faults soak reindex fuzz k6 image pin compose-check push nginx qemu test-arm64 artifact test test-short replay replay-http vet generate check-generate bench clean

all: build

# The product: the API, the indexer and the alternative balancer.
build:
	$(GO) build -o bin/ ./cmd/...

# The harness behind make run, score, faults and soak (harness/cmd): a
# module of its own (harness/go.mod), so that its dependencies are not
# the product's.
tools:
	$(GO) -C harness build -o ../bin/ ./cmd/...

# The service, natively: two API instances and nginx on 127.0.0.1:9999,
# each in a cgroup with its docker-compose.yml limits, until Ctrl-C.
# The APIs are pinned to the digest cmd/indexer recorded when it built
# the artifact (ARTIFACT.sha256), when there is that record.
run: build tools artifact nginx
	bin/stack -artifact $(ARTIFACT) $(if $(wildcard $(ARTIFACT).sha256),-digest $$(cut -c1-64 $(ARTIFACT).sha256))

# A new reference file into the stack `make run` started, without a
# failed request: builds NEXT beside the artifact, then bin/stack checks
# it completely and moves the API instances onto it one at a time (a bad
# artifact changes nothing). The update is pinned to the digest the
# indexer printed and recorded as it wrote NEXT: a file changed since
# is refused. docs/OPERATIONS.md has the details.
NEXT ?= $(basename $(ARTIFACT)).next.fknn

reindex: tools
	@if [ -z "$(REFS)" ]; then echo "make: name the new reference file: make reindex REFS=path/to/references.json.gz" >&2; exit 1; fi
	$(GO) run ./cmd/indexer -refs $(REFS) -out $(NEXT) -seed $(SEED)
	bin/stack -reindex $(NEXT) -digest $$(cut -c1-64 $(NEXT).sha256)

# Prometheus beside the stack (make run, make score), until Ctrl-C:
# observe/prometheus.yml (api1, api2 and cmd/lb's operator listeners,
# every second; the rules of observe/alerts.yml), its data in a run
# folder, its API and UI on 127.0.0.1:9090. PICTURE=1 draws the time it
# ran into the run folder when it stops.
observe: tools prometheus
	bin/observe $(if $(PICTURE),-picture)

# The not-ready drill: a stack of its own under load, api1 stopped, and
# the alert as Prometheus reports it (docs/OPERATIONS.md, "Observing it").
observe-drill: build tools artifact nginx k6 prometheus
	bin/observe -drill -payloads $(PAYLOADS)

# The contest's k6 load test against the stack (started unless one answers
# on 9999): prints the score, writes results.json and report.html to a run
# folder. PEAK, SECONDS and PAYLOADS override the load shape.
K6_VERSION = v1.8.1
K6 = .tools/bin/k6

score: build tools artifact nginx k6
	bin/score -k6 $(K6) -payloads $(or $(PAYLOADS),$(DATA)/test-data.json.gz)

# CPU per request and latency against a stepped constant load, for the
# default stack, its floor and the cmd/lb alternative: a picture, the
# table and each one's knee in a run folder. Short by default (3 × 5
# steps × 10 s); docs/RESULTS.md's sweep sets
# CAPACITY_RATES=150,300,600,1200,1800,2400 CAPACITY_SECONDS=15.
CAPACITY_RATES   ?= 150,300,600,1200,2400
CAPACITY_SECONDS ?= 10
capacity: build tools artifact nginx k6
	bin/capacity -k6 $(K6) -payloads $(PAYLOADS) -rates $(CAPACITY_RATES) -seconds $(CAPACITY_SECONDS)

# Faults under load (docs/OPERATIONS.md, "Fault drills"); each starts its own stack.
faults: build tools artifact nginx k6
	bin/faults -fault kill9
	bin/faults -fault sigterm
	bin/faults -fault slow

soak: build tools artifact nginx k6
	bin/faults -fault soak -rate 900 -seconds 600

# Every fuzz target for FUZZTIME each (CI: 20s; before a release: 10m);
# scripts/fuzz.sh says which failures are findings.
FUZZTIME ?= 20s
FUZZ_TARGETS = vectorize:FuzzVectorize vectorize:FuzzVectorizeFields artifact:FuzzOpen artifact:FuzzOpenSealed \
	internal/server:FuzzHandler internal/server:FuzzRawRequest knn:FuzzScanKernel knn:FuzzBoundsKernel knn:FuzzCentroidKernel knn:FuzzNearestTwoKernel
fuzz:
	GO=$(GO) scripts/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)

# k6, pinned, built into a project-local folder the first time.
k6:
	@if [ ! -x $(K6) ] || ! $(K6) version 2>/dev/null | grep -q '$(K6_VERSION)'; then \
	  echo "make: installing k6 $(K6_VERSION) into $(K6) (go install; a few minutes the first time)"; \
	  GOBIN=$(abspath .tools/bin) $(GO) install go.k6.io/k6@$(K6_VERSION); fi

# nginx from Debian's package, installed when missing and possible.
nginx:
	@command -v nginx >/dev/null 2>&1 || scripts/apt-install.sh "nginx is missing" nginx

# Prometheus and promtool from Debian's package (one package has both),
# installed when missing and possible.
prometheus:
	@{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || scripts/apt-install.sh "prometheus is missing" prometheus

# Both Prometheus configurations, and the alert rules' unit tests: each
# alert fires on the series that should fire it and not on a near miss.
test-alerts: prometheus
	promtool check config --syntax-only observe/prometheus.yml observe/prometheus.compose.yml
	promtool test rules observe/alerts_test.yml

# qemu-aarch64 from Debian's qemu-user, and the kernel's binfmt_misc entry
# that runs arm64 binaries through it (qemu-user-binfmt; qemu-user-static
# registers one too), installed when missing and possible: make test-arm64.
qemu:
	@command -v qemu-aarch64 >/dev/null 2>&1 && [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { \
	  pkgs="qemu-user"; [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || pkgs="$$pkgs qemu-user-binfmt"; \
	  scripts/apt-install.sh "the arm64 tests need qemu-aarch64 and its binfmt entry" $$pkgs; }

# The arm64 build under emulation (scripts/test-arm64.sh): knn's tests with
# the NEON kernels required, the kernel fuzz targets for ARM64_FUZZTIME
# each, and the in-process replay of every payload (a few minutes).
ARM64_FUZZTIME ?= 10s
test-arm64: qemu
	@if [ -n "$(REFS)" ]; then $(MAKE) --no-print-directory artifact; fi
	GO=$(GO) ARTIFACT=$(ARTIFACT) PAYLOADS=$(PAYLOADS) scripts/test-arm64.sh $(ARM64_FUZZTIME)

# The API image for docker-compose.yml, for linux/amd64 (the contest
# machine's Haswell: GOAMD64=v3) and linux/arm64, static binaries and the
# one artifact, FROM scratch: IMAGE-amd64, IMAGE-arm64, and IMAGE for this
# machine (scripts/image.sh; make push joins them under one name). It
# refuses an artifact other than the one .env pins.
image: artifact
	GO=$(GO) scripts/image.sh $(IMAGE) $(ARTIFACT)

# Pins the artifact built here: writes its SHA-256 to .env, which both
# compose files read (the APIs refuse to start on any other file).
pin: artifact
	@digest=$$(sha256sum $(ARTIFACT) | cut -d' ' -f1); \
	  printf '%s\n' "# The SHA-256 of the artifact the APIs must serve (make pin writes it;" \
	    "# the compose files pass it as -digest and the APIs refuse any other)." \
	    "FRAUDKNN_ARTIFACT_SHA256=$$digest" > .env; \
	  echo "pinned $(ARTIFACT) in .env: FRAUDKNN_ARTIFACT_SHA256=$$digest"

# The compose files on a real Docker engine, end to end, one summary line
# each (docs/DEPLOY.md); as root: installs and starts the engine and
# Compose when missing. COMPOSE_FILES picks the files (a pinned copy, say).
COMPOSE_FILES ?= docker-compose.yml docker-compose.fdpass.yml
compose-check: artifact
	GO=$(GO) PAYLOADS=$(PAYLOADS) IMAGE=$(IMAGE) scripts/compose-check.sh $(COMPOSE_FILES)

# Publishes REGISTRY/IMAGE as one name for both architectures (a
# manifest list over REGISTRY/IMAGE-amd64 and -arm64) and prints the
# digest to pin in the compose files (scripts/push.sh, docs/DEPLOY.md).
push: image
	@[ -n "$(REGISTRY)" ] || { echo "make: push needs REGISTRY, the registry and namespace to push to, e.g. make push REGISTRY=docker.io/yourname" >&2; exit 1; }
	scripts/push.sh $(REGISTRY) $(IMAGE)

# The artifact is built once from the reference file and reused.
artifact: $(ARTIFACT)

$(ARTIFACT): $(REFS)
	@if [ -z "$(REFS)" ]; then \
	  echo "make: no reference file: put the official references.json.gz in resources/ or $(DATA)/, or pass REFS=path" >&2; \
	  echo "      (it is published with the Rinha de Backend 2026 contest; see README.md)" >&2; exit 1; fi
	@mkdir -p $(dir $(ARTIFACT))
	$(GO) run ./cmd/indexer -refs $(REFS) -out $(ARTIFACT) -seed $(SEED)

# vet covers the assembly frames (asmdecl), the pure-Go build and the
# arm64 build (its NEON assembly), in the product's module and in the
# harness and research modules beside it.
TOOL_MODULES = harness research
vet:
	$(GO) vet ./...
	$(GO) vet -tags purego ./...
	GOARCH=arm64 $(GO) vet ./...
	for m in $(TOOL_MODULES); do $(GO) -C $$m vet ./... || exit 1; done

# The assembly is generated and committed: the AVX2 kernels by asm/ (avo),
# the NEON kernels by asm/arm64. check-generate regenerates it and
# compares only the generated files (those with "Code generated ... DO NOT
# EDIT" in knn/) with what they were before, so that edits elsewhere in
# knn/ do not trip it; then asm/'s tests decode every instruction the arm64
# kernels write as a number and compare it with its comment.
generate:
	$(GO) -C asm generate ./...

GENERATED = $(shell grep -l '^// Code generated .* DO NOT EDIT\.$$' knn/* 2>/dev/null)
check-generate:
	@before=$$(mktemp -d) && trap 'rm -rf '$$before EXIT && \
	  for f in $(GENERATED); do mkdir -p $$before/$$(dirname $$f) && cp $$f $$before/$$f; done && \
	  $(MAKE) --no-print-directory generate && \
	  bad=$$(for f in $(GENERATED); do cmp -s $$f $$before/$$f || echo $$f; done) && \
	  if [ -n "$$bad" ]; then echo "make: "$$bad": not what asm/ generates (edited by hand, or asm/ changed without make generate); now regenerated: review git diff and commit" >&2; exit 1; fi
	$(GO) -C asm test ./...

# Unit tests need no data; when the reference file is present the artifact
# is built first, and the full-data tests use it. The product's tests run
# twice: with the assembly kernels and with the pure-Go ones (-tags
# purego); then the harness's and research's. Each run goes through
# bin/testreport, which prints what go test would and keeps the skipped
# tests, so that the last lines name every test skipped and why.
TEST_ENV  = FRAUDKNN_ARTIFACT=$(if $(REFS),$(abspath $(ARTIFACT)))
TEST_RUNS = build/test
test: vet check-generate test-alerts
	@if [ -n "$(REFS)" ]; then $(MAKE) --no-print-directory artifact; fi
	@$(GO) -C harness build -o ../bin/ ./cmd/testreport
	@rm -rf $(TEST_RUNS)
	set -o pipefail; $(TEST_ENV) $(GO) test -json ./... | bin/testreport -run product -skips $(TEST_RUNS)/product.json
	set -o pipefail; $(TEST_ENV) $(GO) test -json -tags purego ./... | bin/testreport -run 'product purego' -skips $(TEST_RUNS)/purego.json
	set -o pipefail; for m in $(TOOL_MODULES); do $(TEST_ENV) $(GO) -C $$m test -json ./... | bin/testreport -run $$m -skips $(TEST_RUNS)/$$m.json || exit 1; done
	@bin/testreport -summary $(TEST_RUNS)/*.json

# Unit tests only.
test-short: vet test-alerts
	$(GO) test -short ./...
	for m in $(TOOL_MODULES); do $(GO) -C $$m test -short ./... || exit 1; done

replay: artifact
	$(GO) -C harness build -o ../bin/ ./cmd/replay
	bin/replay -artifact $(ARTIFACT) -payloads $(PAYLOADS) -brute 200

# Kernel and search benchmarks, assembly (AVX2 on amd64, NEON on arm64)
# against pure Go (needs benchstat:
# go install golang.org/x/perf/cmd/benchstat@latest).
bench: artifact
	$(GO) test -run '^$$' -bench Kernel -count 8 ./knn > build/bench-kernels.txt
	benchstat -col /kernel build/bench-kernels.txt
	$(GO) test -run '^$$' -bench SearchArtifact -count 8 ./knn > build/bench-asm.txt
	$(GO) test -tags purego -run '^$$' -bench SearchArtifact -count 8 ./knn > build/bench-go.txt
	benchstat build/bench-go.txt build/bench-asm.txt

# Every shared payload over HTTP through a running stack (make run).
replay-http:
	$(GO) -C harness build -o ../bin/ ./cmd/replay
	bin/replay -url http://127.0.0.1:9999 -payloads $(PAYLOADS) -conns 8

clean:
	rm -rf bin build
