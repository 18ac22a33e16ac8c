# make demo  — set up .venv (torch first, then cnnlab) and the Fashion-MNIST files, then train.
# make test  — the same set-up, then the whole test suite (CI runs this through .ci/run).
# Override the torch pin with e.g. `make test TORCH=torch==2.5.1`.
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(subst =,_,$(subst /,_,$(TORCH)))
FASHION_DIR := /usr/share/datasets/fashion-mnist

.PHONY: setup data browser graphviz demo test test-fast lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

# Fashion-MNIST from Debian's package where apt is available; otherwise cnnlab's loader
# downloads the official files (with checksums) on first use.
data:
	@if [ ! -f $(FASHION_DIR)/train-images-idx3-ubyte.gz ] && command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  ( $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq dataset-fashion-mnist ) \
	    || echo "note: could not install dataset-fashion-mnist; the loader will download it"; \
	fi

# Headless Chromium for the report's browser test (skipped where it cannot be installed).
browser:
	@if ! command -v chromedriver >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  ( $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver ) \
	    || echo "note: could not install chromium; the browser test will be skipped"; \
	fi

# Graphviz's dot program for keras.utils.plot_model (its PNG test is skipped without it).
graphviz:
	@if ! command -v dot >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  ( $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq graphviz ) \
	    || echo "note: could not install graphviz; plot_model's image test will be skipped"; \
	fi

demo: setup data
	$(VENV)/bin/cnnlab train

test: setup data browser graphviz
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

# ruff, and the layering of docs/architecture.md (import-linter; tests/test_architecture.py
# runs it in `make test` too).
lint: setup
	$(VENV)/bin/ruff check src tests bench examples docs
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
