# Two commands do all the set-up on a machine with Python 3.11+:
#   make demo   — the jobs on embedded defaults (SQLite + in-process broker), no services needed
#   make test   — the whole test suite (integration tests use the local MariaDB and RabbitMQ)
# uv is used when installed; otherwise it is installed into .tools/ first.

UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen

.PHONY: demo test lint typecheck check bench sync

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

sync: $(UV)
	$(UV) sync --frozen --all-packages

demo: sync
	$(RUN) lineblocs-jobs demo

test: sync
	$(RUN) pytest

lint: sync
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) lint-imports

typecheck: sync
	$(RUN) mypy

check: lint typecheck test

bench: sync
	$(RUN) python -m benchmarks
