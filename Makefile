# adascale — two commands on a fresh machine:
#   make compress   install what is missing, build, run the default recipe
#   make test       install what is missing, build, run every test
SHELL := /bin/bash
.DEFAULT_GOAL := help

SWIFT       ?= swift
JOBS        ?= 2
RECIPE      ?= recipes/fmnist.yaml
BIN         := .build/release/adascale
APT_PKGS    := libhdf5-dev libopenblas-dev zlib1g-dev dataset-fashion-mnist
FMNIST_DIR  := /usr/share/datasets/fashion-mnist
REF_VENV    := tools/reference/.venv
# One BLAS thread per process by default keeps timings reproducible; commands that want more set it.
export OPENBLAS_NUM_THREADS ?= 2

.PHONY: help deps build build-debug test example-app acceptance bench latency-check replay ci-compress compress check-bundle check-exits fixtures interop applications faults fuzz fuzz-build test-asan test-tsan format lint clean ray-venv ray-test ray-measure

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

deps: ## Install missing system packages (HDF5, OpenBLAS, zlib, Fashion-MNIST) with apt-get
	@missing=""; for p in $(APT_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null \
	    || { echo "error: could not install:$$missing (run as root or install them yourself)"; exit 1; }; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "error: swift not found on PATH (Swift 6.x needed)"; exit 1; }

build: deps ## Build the release binary (.build/release/adascale)
	$(SWIFT) build -c release -j $(JOBS)

build-debug: deps
	$(SWIFT) build --build-tests -j $(JOBS)

test: deps ## Build and run all tests (unit, reference fixtures, CLI behaviour)
	$(SWIFT) build --build-tests -j $(JOBS)
	@set -o pipefail; $(SWIFT) test --skip-build --disable-swift-testing 2>&1 | tee .build/test.log
	@tail -n 3 .build/test.log \
	  | sed -nE 's/.*Executed ([0-9]+) tests?, with (([0-9]+) tests? skipped and )?([0-9]+) failures?.*/\1 \4 \3/p' \
	  | tail -n 1 | awk '{ printf "%d passed, %d failed, %d skipped\n", $$1 - $$2 - $$3, $$2, $$3 }'

example-app: deps ## Build Examples/AdaptiveApp on the AdaRuntime product alone; check it compiled only the runtime's chain
	tools/example_app.sh

bench: build ## Speed vs peers in one run: Trainer vs PyTorch (Adam, same batches), inference vs PyTorch and onnxruntime; 5 rounds, load-checked, ~10 min
	tools/bench/run.sh

latency-check: build ## Predicted vs measured batch-1 latency on MobileNets (fails over 15%)
	tools/latency_check.sh

replay: build ## Live replay of every sample trace against BUNDLE (default bundles/fmnist): every policy, measured
	tools/replay_traces.sh "$(or $(BUNDLE),bundles/fmnist)" $(ARGS)

ci-compress: build ## What a CI job runs: compress RECIPE (default the quick one), diff against the last bundle, gates (exit 3)
	tools/ci_compress.sh --recipe "$(or $(filter-out recipes/fmnist.yaml,$(RECIPE)),recipes/fmnist_quick.yaml)" $(ARGS)

compress: build ## Run RECIPE (default: recipes/fmnist.yaml) end to end; writes the bundle it names
	tools/compress.sh "$(RECIPE)" $(ARGS)

acceptance: build ## Fashion-MNIST CNN from scratch: ≥ 90% in 10 epochs, and Keras scores it the same
	tools/train_fmnist.sh

fixtures: ## Regenerate reference fixtures with real Keras (JAX) and PyTorch
	tools/reference/make_fixtures.sh

check-bundle: ## Real Keras loads every variant of BUNDLE (default bundles/fmnist) and matches its accuracy
	tools/reference/check_bundle.sh "$(or $(BUNDLE),bundles/fmnist)"

check-exits: build ## Real Keras loads each multi-exit variant of BUNDLE; outputs and operating points match
	tools/reference/check_exits.sh "$(or $(BUNDLE),bundles/fmnist)"

interop: build ## Check that real Keras loads what adascale writes
	tools/reference/check_interop.sh

applications: build ## keras.applications families (MobileNet V1-V3, ResNet50, DenseNet121, EfficientNet, nested) predict like Keras
	tools/reference/check_applications.sh

faults: ## kill -9 at KILL_RUNS (20) random moments of compress, each rerun to the same bundle (seed KILL_SEED)
	tools/faults/kill_loop.sh $(or $(KILL_RUNS),20) $(or $(KILL_SEED),1)

ray-venv: ## Install Ray 2.60.0 into tools/ray/.venv (for the Ray backend, docs/scale.md)
	tools/ray/venv.sh

ray-test: deps ## Ray backend tests on a loopback cluster (started, then ray stop even on failure; docs/scale.md)
	$(SWIFT) build --build-tests -j $(JOBS)
	tools/ray/ray_test.sh

ray-measure: build ## docs/scale.md's figures: local vs Ray search throughput on a loopback cluster, sizes
	RAY_TEST_NODES=1 RAY_TEST_CMD=tools/ray/measure.sh tools/ray/ray_test.sh

fuzz-build: deps
	@# SwiftPM keeps the path dependency's file list in the build plan: drop the plan so that a
	@# source file added to the package since the last fuzz build is compiled in.
	rm -f .build-fuzz/release.yaml
	$(SWIFT) build -c release -j $(JOBS) --package-path Fuzz --scratch-path .build-fuzz \
	  -Xswiftc -sanitize=fuzzer,address

fuzz: fuzz-build ## libFuzzer + ASan on every file reader, FUZZ_S (60) s each (FUZZ_TARGETS: a subset); exit 1 on a crash
	tools/fuzz/run.py --seconds $(or $(FUZZ_S),60) $(FUZZ_TARGETS)

test-asan: deps ## The tests under AddressSanitizer (.build-asan; TESTS=Target.Class for a subset)
	$(SWIFT) build --build-tests -j $(JOBS) --sanitize=address --scratch-path .build-asan
	tools/sanitize/run_tests.sh address .build-asan $(TESTS)

TSAN_TESTS := AdaTensorTests.ParallelTests AdaTensorTests.GemmTests AdaPipelineTests.SearchPartsTests AdaRuntimeTests.AdaptiveModelTests AdaDistributedTests.DistributedRunTests

test-tsan: deps ## The parallel search/runtime tests (TSAN_TESTS) under ThreadSanitizer (.build-tsan)
	$(SWIFT) build --build-tests -j $(JOBS) --sanitize=thread --scratch-path .build-tsan
	tools/sanitize/run_tests.sh thread .build-tsan $(or $(TESTS),$(TSAN_TESTS))

format: ## Format the Swift sources with swift-format
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

lint: deps ## Check formatting with the committed .swift-format, and that targets declare what they import (CI runs it)
	$(SWIFT) format lint --strict --recursive Sources Tests Examples Fuzz Package.swift
	python3 tools/check_deps.py

clean:
	rm -rf .build
