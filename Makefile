# clinesync's entry points. `make demo` and `make test` work on a fresh machine: they create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lock demo test test-quick lint bench bench-validate bench-faults bench-bases bench-versus bench-kit bench-scaling docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# The main job on the embedded local console (.clinesync/console.db) with examples/org.yaml:
# validate, plan, apply, and a second plan that must show no changes. The key is a stand-in, not a secret. The
# first plan reads the console before it exists on purpose, which CI otherwise refuses (`CI=`).
DEMO_ENV := AZURE_OPENAI_KEY=$${AZURE_OPENAI_KEY:-demo-stand-in-key}
demo: $(STAMP)
	$(BIN)/clinesync validate examples/
	CI= $(DEMO_ENV) $(BIN)/clinesync plan examples/org.yaml
	$(DEMO_ENV) $(BIN)/clinesync apply examples/org.yaml --auto-approve --console .clinesync/console.db
	$(DEMO_ENV) $(BIN)/clinesync plan examples/org.yaml --detailed-exitcode

# The whole suite: lint, types, dead code, then every test, on both cores. Non-zero on any failure.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/vulture clinesync vulture_allow.py --min-confidence 80
	$(BIN)/python -m pytest -n 2

# The inner loop: the whole suite but the tests that build a wheel or install from the registry. `make test`
# (and CI) runs everything.
test-quick: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not environment"

# The GitHub Action's and the release job's pinned, hashed dependencies (locks/*.txt), from locks/*.in.
LOCK := $(VENV)/pip-tools/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
lock:
	test -x $(VENV)/pip-tools/bin/pip-compile || ($(PYTHON) -m venv $(VENV)/pip-tools && \
		$(VENV)/pip-tools/bin/pip install -q pip-tools)
	cd locks && ../$(LOCK) --output-file runtime.txt runtime.in && ../$(LOCK) --output-file release.txt release.in

# The GitOps kit: the comment of a 1,000-organization plan, and the action's install with pip's cache cold and warm.
bench-kit: $(STAMP)
	$(BIN)/python bench/kit.py

# How validate and plan scale, 10 to 100,000 organizations: the table of docs/performance.md, written there.
bench-scaling: $(STAMP)
	{ sed -n '1,/^<!-- table -->$$/p' docs/performance.md; $(BIN)/python bench/scaling.py; } > docs/performance.md.new
	mv docs/performance.md.new docs/performance.md

# The command reference and the top-level help are generated from the CLI, and the GitHub example is `init`'s
# workflow template; a test fails when one is stale.
docs: $(STAMP)
	$(BIN)/python -m clinesync.cli.reference > docs/commands.md
	$(BIN)/python -m clinesync.cli.reference help > clinesync/cli/help.txt
	cp clinesync/templates/clinesync.yml examples/ci/github/clinesync.yml

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

# Benchmarks run from a regular (not editable) install, as users have it, beside octoDNS as the peer.
BENCH := .venv-bench
PEERS := .venv-peers
bench:
	test -x $(BENCH)/bin/python || $(PYTHON) -m venv $(BENCH)
	$(BENCH)/bin/python -m pip install -q . httpx
	test -x $(PEERS)/bin/octodns-sync || ($(PYTHON) -m venv $(PEERS) && $(PEERS)/bin/python -m pip install -q octodns)
	OCTODNS_SYNC=$(PEERS)/bin/octodns-sync $(BENCH)/bin/python bench/speed.py

# validate beside octodns-validate, in one paired run (issue targets: <= 1.0x the peer, 1,000 files <= 1 s).
bench-validate:
	test -x $(BENCH)/bin/python || $(PYTHON) -m venv $(BENCH)
	$(BENCH)/bin/python -m pip install -q . httpx
	test -x $(PEERS)/bin/octodns-sync || ($(PYTHON) -m venv $(PEERS) && $(PEERS)/bin/python -m pip install -q octodns)
	OCTODNS_VALIDATE=$(PEERS)/bin/octodns-validate $(BENCH)/bin/python bench/validate.py

# Faults and load: a dead console over 1,000 organizations, 200 concurrent clients, descriptors after 10,000.
bench-faults:
	test -x $(BENCH)/bin/python || $(PYTHON) -m venv $(BENCH)
	$(BENCH)/bin/python -m pip install -q . httpx
	$(BENCH)/bin/python bench/faults.py

# Side by side with clinesync 0.1.0 (commit d22a891), installed into its own environment.
V010 := .venv-v010
bench-versus:
	test -x $(BENCH)/bin/python || $(PYTHON) -m venv $(BENCH)
	$(BENCH)/bin/python -m pip install -q . httpx
	test -x $(V010)/bin/clinesync || (rm -rf $(V010)-src && mkdir -p $(V010)-src && git archive d22a891 | tar -x -C $(V010)-src && $(PYTHON) -m venv $(V010) && $(V010)/bin/python -m pip install -q $(V010)-src)
	test -x $(PEERS)/bin/octodns-sync || ($(PYTHON) -m venv $(PEERS) && $(PEERS)/bin/python -m pip install -q octodns)
	OLD_CLINESYNC=$(V010)/bin/clinesync OCTODNS_SYNC=$(PEERS)/bin/octodns-sync $(BENCH)/bin/python bench/versus.py

# A fleet extending one base beside the same fleet written out (issue target: <= 1.2x).
bench-bases:
	test -x $(BENCH)/bin/python || $(PYTHON) -m venv $(BENCH)
	$(BENCH)/bin/python -m pip install -q . httpx
	$(BENCH)/bin/python bench/bases.py

clean:
	rm -rf $(VENV) $(BENCH) $(PEERS) $(V010) $(V010)-src .clinesync build dist *.egg-info .pytest_cache .ruff_cache
