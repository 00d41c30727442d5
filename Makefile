# Two commands for a fresh machine: `make demo` and `make test`. Both build .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The C scanner is compiled by the install (src/build_native.py): editing it installs again.
NATIVE := src/build_native.py $(sort $(wildcard src/agent_tui/model/parsing/_rowscan*.[ch]))
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(NATIVE) | cksum | cut -d' ' -f1)
# command:debian-package pairs the tests and benchmarks need from the system
SYSTOOLS := tmux:tmux jq:jq lnav:lnav sshd:openssh-server ssh:openssh-client rsvg-convert:librsvg2-bin

.PHONY: install bytecode sysdeps test lint typecheck pytest bench demo clean

$(STAMP): pyproject.toml $(NATIVE)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,bench]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP) bytecode

# An installed wheel has its modules byte-compiled (pip compiles them); an editable install under
# PYTHONDONTWRITEBYTECODE would compile every module of src/ on each start, about 0.1-0.15 s before the
# TUI's first rows. Only stale files are compiled again.
bytecode: $(STAMP)
	$(PY) -m compileall -q src

sysdeps:
	@missing=""; for pair in $(SYSTOOLS); do \
		cmd=$${pair%%:*}; pkg=$${pair##*:}; \
		command -v $$cmd >/dev/null 2>&1 || [ -x /usr/sbin/$$cmd ] || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing system tools:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict src

pytest: $(STAMP) sysdeps
	TZ=UTC $(VENV)/bin/pytest

test: lint typecheck pytest

bench: $(STAMP) sysdeps bytecode
	TZ=UTC $(PY) benchmarks/run.py

demo: $(STAMP) bytecode
	$(VENV)/bin/agent-tui demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
