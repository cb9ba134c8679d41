# proxbox-go: Proxmox VE -> NetBox. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

MODULES   := netboxsdk proxmoxsdk proxboxd tools bench
GO        ?= go
GOTEST    ?= $(GO) test
FUZZTIME  ?= 5s
NETBOX    := bash tools/netbox-dev/netbox.sh
# Tests that need a live NetBox read it from here (written by netbox-up).
NETBOX_ENV := .netbox/env

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-14s %s\n",$$1,$$2}'

.PHONY: demo
demo: ## run proxboxd demo: in-process PVE mock + in-memory NetBox, full sync, summary, then serve /admin
	$(GO) run ./proxboxd/cmd/proxboxd demo

.PHONY: build
build: ## build every module
	@for m in $(MODULES); do (cd $$m && $(GO) build ./...) || exit 1; done

.PHONY: vet
vet: ## go vet every module
	@for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done

.PHONY: fmt-check
fmt-check: ## fail if hand-written Go code is not gofmt-clean
	@bad=$$(git ls-files '*.go' | xargs grep -L '^// Code generated .* DO NOT EDIT\.$$' | xargs gofmt -l); \
	if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi

.PHONY: lint
lint: fmt-check vet ## gofmt, go vet and staticcheck (hand-written code)
	@for m in $(MODULES); do (cd $$m && $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $$($(GO) list ./... | grep -v '/gen') ) || exit 1; done

.PHONY: test-deps
test-deps: ## install what make test needs besides Go when missing (openssh-server, for the OpenSSH transport test; apt-get as root)
	@bash tools/test-deps.sh

# The /admin browser test (proxboxd/cmd/proxboxd TestAdminBrowser) drives
# Debian's chromium headless. `make chromium` installs it when it is missing
# and this is root with apt-get (CI); elsewhere it says so and the test skips.
CHROMIUM := /usr/bin/chromium

.PHONY: chromium
chromium: ## install chromium for the /admin browser test if missing (root + apt-get; idempotent)
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "chromium: installing (Debian package) for the /admin browser test"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null; \
	else \
		echo "chromium: $(CHROMIUM) is missing and cannot be installed here (needs root and apt-get); TestAdminBrowser will skip"; \
	fi

.PHONY: admin-screenshot
admin-screenshot: chromium ## re-make proxboxd/docs/admin.png: TestAdminBrowser's page at its end
	cd proxboxd && $(GOTEST) -count=1 -run '^TestAdminBrowser$$' ./cmd/proxboxd -args -admin-screenshot=../../docs/admin.png

.PHONY: test
test: test-deps chromium ## unit, contract, conformance (in-memory NetBox), example and /admin browser tests; no services needed
	@for m in $(MODULES); do echo "== $$m"; (cd $$m && $(GOTEST) -count=1 ./...) || exit 1; done

.PHONY: sse-check
sse-check: ## the plugin's SSE rules in Python (stdlib) on live proxboxd streams and on the contract's odd frames (also part of make test)
	cd proxboxd && $(GOTEST) -count=1 -run 'TestPythonSSECheck|TestFrameTableMatchesSSECheck' -v ./cmd/proxboxd ./contract

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each
	bash tools/fuzz-all.sh $(FUZZTIME)

.PHONY: schemas schemas-proxmox schemas-netbox
schemas: schemas-proxmox schemas-netbox ## re-create schemas/ from their sources
schemas-proxmox: ## PVE API viewer data -> schemas/proxmox/pve-*.json
	cd tools && $(GO) run ./pveschema -in ../../shared/upstream/proxmox/pve-8.1.5-apidata.js -out ../schemas/proxmox/pve-8.1.json -overrides ../schemas/proxmox/overrides.json -expect 584
	cd tools && $(GO) run ./pveschema -in ../../shared/upstream/proxmox/pve-9.1.3-apidata.js -out ../schemas/proxmox/pve-9.1.json -overrides ../schemas/proxmox/overrides.json -expect 649
schemas-netbox: ## dump /api/schema from the live NetBox (make netbox-up first)
	source $(NETBOX_ENV) && cd tools && $(GO) run ./netboxschema -out ../schemas/netbox

.PHONY: generate
generate: ## regenerate both clients from schemas/ (deterministic)
	cd tools && $(GO) run ./genpve
	cd tools && $(GO) run ./gennetbox

.PHONY: verify-generate
verify-generate: ## regenerate both clients into a temporary tree and fail on any difference from the checked-in code; a renamed schema field must break go build ./proxboxd/...
	bash tools/verify-generate.sh
	bash tools/verify-generate_test.sh
	bash tools/schema-rename-check.sh

.PHONY: tidy-check
tidy-check: ## fail if `go mod tidy` would change any module
	@for m in $(MODULES); do (cd $$m && $(GO) mod tidy -diff >/dev/null) || { echo "$$m: go mod tidy needed (cd $$m && go mod tidy -diff)"; exit 1; }; done; echo "tidy-check: all modules tidy"

# Packages with goroutines of their own: the mock PVE, the client (limiter,
# cache, concurrent pagination) and its in-memory NetBox, the run tally, the sync engine, the
# HTTP API, the stream writer (keep-alive goroutine).
RACE_PKGS := proxmoxsdk:./pvemock netboxsdk:. netboxsdk:./netboxtest proxboxd:. proxboxd:./sync proxboxd:./http proxboxd:./contract

.PHONY: race
race: ## go test -race on the packages with concurrency
	@for p in $(RACE_PKGS); do m=$${p%%:*}; d=$${p#*:}; echo "== race $$m/$$d"; (cd $$m && $(GOTEST) -race -count=1 $$d) || exit 1; done

.PHONY: bench-import
bench-import: ## cold-build cost (CPU-s, peak RSS) of importing one NetBox app, the whole client, proxmoxsdk, vs the standard library
	bash tools/bench-import/run.sh

.PHONY: netbox-up netbox-down netbox-reset netbox-status
netbox-up: ## install (first time) and start a real NetBox on loopback; writes .netbox/env
	$(NETBOX) up
netbox-down: ## stop the NetBox web server, worker and services it started
	$(NETBOX) down
netbox-reset: ## empty the NetBox database and re-create the API tokens
	$(NETBOX) reset
netbox-status: ## show whether NetBox answers
	$(NETBOX) status

.PHONY: e2e
e2e: netbox-up ## end-to-end tests against the real NetBox (starts and resets it): conformance, the plugin's job and stages, faults, kill, concurrency
	bash bench/e2e.sh

# Only the netboxsdk conformance suite against the real NetBox (make e2e runs it too).
.PHONY: e2e-smoke
e2e-smoke: netbox-up ## the netboxsdk conformance suite alone against the real NetBox
	set -a && source $(NETBOX_ENV) && set +a && cd netboxsdk && $(GOTEST) -count=1 -timeout 30m -v -run '^TestRealNetBox$$' ./conformance/

.PHONY: bench
bench: netbox-up ## scenario benchmarks against the real NetBox; appends to bench/RESULTS.md
	bash bench/bench.sh
