# fraudknn: see README.md. `make test` runs every test; `make replay`
# checks every shared payload against the full artifact.

GO       ?= go
DATA     ?= $(or $(FRAUDKNN_DATA),../shared/data)
# The official reference file: resources/ first, then the shared data folder.
REFS     ?= $(firstword $(wildcard resources/references.json.gz) $(wildcard $(DATA)/references.json.gz))
PAYLOADS ?= $(DATA)/test-data.json.gz
ARTIFACT ?= build/index.fknn
SEED     ?= 1
# The API image's name: the local default; make push prefixes REGISTRY.
IMAGE    ?= fraudknn-api:0.1.0

.PHONY: all build tools run score capacity faults soak reindex fuzz k6 image pin compose-check push nginx artifact test test-short replay replay-http vet generate check-generate bench clean

all: build

# The product: the API, the indexer and the alternative balancer.
build:
	$(GO) build -o bin/ ./cmd/...

# The harness behind make run, score, faults and soak (harness/cmd).
tools:
	$(GO) build -o bin/ ./harness/cmd/...

# The service, natively: two API instances and nginx on 127.0.0.1:9999,
# each in a cgroup with its docker-compose.yml limits, until Ctrl-C.
run: build tools artifact nginx
	bin/stack -artifact $(ARTIFACT)

# A new reference file into the stack `make run` started, without a
# failed request: builds NEXT beside the artifact, then bin/stack checks
# it completely and moves the API instances onto it one at a time (a bad
# artifact changes nothing). docs/OPERATIONS.md has the details.
NEXT ?= $(basename $(ARTIFACT)).next.fknn

reindex: tools
	@if [ -z "$(REFS)" ]; then echo "make: name the new reference file: make reindex REFS=path/to/references.json.gz" >&2; exit 1; fi
	$(GO) run ./cmd/indexer -refs $(REFS) -out $(NEXT) -seed $(SEED)
	bin/stack -reindex $(NEXT)

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
	@command -v nginx >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make: nginx is missing; installing Debian's package"; \
	    (apt-get install -y -qq nginx >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null)) || exit 1; \
	  else \
	    echo "make: nginx is missing: install it with: sudo apt-get install -y nginx" >&2; exit 1; \
	  fi; }

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
# non-amd64 build.
vet:
	$(GO) vet ./...
	$(GO) vet -tags purego ./...
	GOARCH=arm64 $(GO) vet ./...

# The assembly is generated by asm/ (avo) and committed; this regenerates
# it and fails if the committed files differ.
generate:
	$(GO) -C asm generate ./...

check-generate: generate
	@git diff --exit-code -- knn/ || { echo "make: the generated assembly differs from the committed files: run make generate and commit" >&2; exit 1; }

# Unit tests need no data; when the reference file is present the artifact
# is built first, and the full-data tests use it. Everything runs twice:
# with the assembly kernels and with the pure-Go ones (-tags purego).
test: vet check-generate
	@if [ -n "$(REFS)" ]; then $(MAKE) --no-print-directory artifact; fi
	FRAUDKNN_ARTIFACT=$(if $(REFS),$(abspath $(ARTIFACT))) $(GO) test ./...
	FRAUDKNN_ARTIFACT=$(if $(REFS),$(abspath $(ARTIFACT))) $(GO) test -tags purego ./...

# Unit tests only.
test-short: vet
	$(GO) test -short ./...

replay: artifact
	$(GO) run ./harness/cmd/replay -artifact $(ARTIFACT) -payloads $(PAYLOADS) -brute 200

# Kernel and search benchmarks, assembly against pure Go (needs benchstat:
# go install golang.org/x/perf/cmd/benchstat@latest).
bench: artifact
	$(GO) test -run '^$$' -bench Kernel -count 8 ./knn > build/bench-kernels.txt
	benchstat -col /kernel build/bench-kernels.txt
	$(GO) test -run '^$$' -bench SearchArtifact -count 8 ./knn > build/bench-avx2.txt
	$(GO) test -tags purego -run '^$$' -bench SearchArtifact -count 8 ./knn > build/bench-go.txt
	benchstat build/bench-go.txt build/bench-avx2.txt

# Every shared payload over HTTP through a running stack (make run).
replay-http:
	$(GO) run ./harness/cmd/replay -url http://127.0.0.1:9999 -payloads $(PAYLOADS) -conns 8

clean:
	rm -rf bin build
