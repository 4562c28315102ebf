# fraudknn: see README.md. `make test` runs every test; `make replay`
# checks every shared payload against the full artifact.

GO       ?= go
DATA     ?= $(or $(FRAUDKNN_DATA),../shared/data)
# The official reference file: resources/ first, then the shared data folder.
REFS     ?= $(firstword $(wildcard resources/references.json.gz) $(wildcard $(DATA)/references.json.gz))
PAYLOADS ?= $(DATA)/test-data.json.gz
ARTIFACT ?= build/index.fknn
SEED     ?= 1

.PHONY: all build artifact test test-short replay vet clean

all: build

build:
	$(GO) build -o bin/ ./cmd/...

# The artifact is built once from the reference file and reused.
artifact: $(ARTIFACT)

$(ARTIFACT): $(REFS)
	@if [ -z "$(REFS)" ]; then \
	  echo "make: no reference file: put the official references.json.gz in resources/ or $(DATA)/, or pass REFS=path" >&2; \
	  echo "      (it is published with the Rinha de Backend 2026 contest; see README.md)" >&2; exit 1; fi
	@mkdir -p $(dir $(ARTIFACT))
	$(GO) run ./cmd/indexer -refs $(REFS) -out $(ARTIFACT) -seed $(SEED)

vet:
	$(GO) vet ./...

# Unit tests need no data; when the reference file is present the artifact
# is built first, and the full-data tests use it.
test: vet
	@if [ -n "$(REFS)" ]; then $(MAKE) --no-print-directory artifact; fi
	FRAUDKNN_ARTIFACT=$(if $(REFS),$(abspath $(ARTIFACT))) $(GO) test ./...

# Unit tests only.
test-short: vet
	$(GO) test -short ./...

replay: artifact
	$(GO) run ./cmd/replay -artifact $(ARTIFACT) -payloads $(PAYLOADS) -brute 200

clean:
	rm -rf bin build
