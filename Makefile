# Two commands on a fresh machine with Python 3.11+ and make:
#   make repro   set up the locked environment and run the whole pipeline on the bundled example (offline)
#   make test    set up the same environment and run the test suite
#   make example TYPE=extraction|rewrite|summarization   run that task type's bundled example (offline)
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
BIN := $(CURDIR)/.venv/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/.venv
export TLDEXTRACT_CACHE := $(CURDIR)/.cache/tldextract

.PHONY: setup repro test clean-env

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

setup: .venv/.synced

repro: setup
	PATH="$(BIN):$$PATH" dvc repro dvc.yaml

test: setup
	PATH="$(BIN):$$PATH" python -m pytest -n auto --dist loadfile

.PHONY: example
TYPES := extraction rewrite summarization
example: setup
	@case " $(TYPES) " in *" $(TYPE) "*) ;; *) echo "usage: make example TYPE=<$(TYPES)>" >&2; exit 2;; esac
	PATH="$(BIN):$$PATH" dvc repro examples/$(TYPE)/dvc.yaml

clean-env:
	rm -rf .venv .tools
