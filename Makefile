# Each target is self-sufficient on a fresh machine: it creates .venv, installs the CPU
# torch wheel first (a looser pin would pull several GB of CUDA packages), then gfx.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_PIN := torch==2.13.0
STAMP := $(VENV)/.gfx-installed

.PHONY: demo test install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): $(PY) pyproject.toml setup.py
	@# Graphviz renders inspection SVGs; best effort (needs root and apt-get).
	@command -v dot >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq graphviz) \
		>/dev/null 2>&1 || echo "note: Graphviz not installed; SVG export is unavailable"
	$(PY) -m pip install -q $(TORCH_PIN)
	$(PY) -m pip install -q -e '.[test,oracle,graphgym]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m gfx demo
	$(PY) -m gfx.graphgym --cfg node

test: $(STAMP)
	$(PY) -m pytest -n 2 -q tests

clean:
	rm -rf $(VENV) build dist *.egg-info
