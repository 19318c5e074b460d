# Every target works from a fresh clone: it creates .venv at the repo root on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SOURCES := src codegen tests bench examples docs/hooks
EXTRAS  := codegen,sandbox,dev,docs
# The oldest and newest supported Pythons, tested by `make test-pythons` (the default one by `test`).
PYTHONS := 3.10 3.13

.PHONY: install test test-pythons lint generate check docs demo bench mutate clean

# The demo, tests and benchmarks talk to servers on loopback: never through an environment proxy.
comma := ,
LOOPBACK := 127.0.0.1,localhost,::1
export NO_PROXY := $(LOOPBACK)$(if $(NO_PROXY),$(comma)$(NO_PROXY))
export no_proxy := $(LOOPBACK)$(if $(no_proxy),$(comma)$(no_proxy))

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy --strict src

check: install
	$(BIN)/pirsonal-codegen check

test: lint check docs
	$(BIN)/python -m pytest

generate: install
	$(BIN)/pirsonal-codegen regenerate

# The reference site, from the docstrings, into site/; any MkDocs warning fails it (--strict).
docs: install
	$(BIN)/mkdocs build --strict  # not --quiet: it hides the warnings from --strict too

demo: install
	$(BIN)/python examples/run_demo.py

bench: install
	$(BIN)/python -m bench

# pytest under each of $(PYTHONS), in .venv-X.Y; lint and generated code are checked once, by `test`.
# A missing interpreter is skipped, or fails under CI=true.
test-pythons:
	EXTRAS='$(EXTRAS)' .ci/test-pythons $(PYTHONS)

# Mutation testing of the pure modules, one module at a time: minutes, so not part of `make
# test`. mutmut keeps its results in mutants/ and re-tests only what changed since; `mutmut
# show NAME` shows a survivor's change. Prints each module's count per outcome.
MUTATED := retry _envelope contract _redact
MUTATE_STAMP := $(VENV)/.mutate-installed

$(MUTATE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[mutate]'
	touch $(MUTATE_STAMP)

mutate: $(MUTATE_STAMP)
	for module in $(MUTATED); do \
		$(BIN)/mutmut run --max-children 2 "pirsonal_async.$$module.*" || exit 1; \
	done
	$(BIN)/mutmut results --all true | awk -F': ' \
		'$$2 != "not checked" { split($$1, name, "."); count[name[2] ": " $$2]++ } \
		$$2 != "killed" && $$2 != "not checked" { print $$1 ": " $$2 } \
		END { for (key in count) print key, count[key] }'

clean:
	rm -rf $(VENV) $(VENV)-*/ site .mypy_cache .ruff_cache .pytest_cache mutants
