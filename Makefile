# goldenimage.azure: every target sets up what it needs (venv, pip, apt-get as root), so each works
# on a fresh machine. `make test` runs every CI gate; `.ci/run` is the CI entry point.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

BOOTSTRAP_PYTHON ?= python3.11
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
BUILD := .build
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
ARTIFACT := $(BUILD)/dist/goldenimage-azure-$(VERSION).tar.gz
# ansible-test needs the collection physically at .../ansible_collections/<namespace>/<name>, and outside
# this git checkout (inside it, git's view hides the ignored build directory and every target is skipped)
# (one per checkout, so that parallel checkouts on a shared machine do not clobber each other)
SANITY_ROOT ?= $(or $(TMPDIR),/tmp)/goldenimage-azure-sanity-$(shell printf %s "$(CURDIR)" | cksum | cut -d' ' -f1)
SANITY_TREE := $(SANITY_ROOT)/ansible_collections/goldenimage/azure
# the repository as a collection, for ansible-playbook, molecule and the demo (tests/harness.py uses the same link)
COLLECTIONS := $(abspath $(BUILD))/collections
GET_PIP := $(HOME)/.ansible/test/cache/get_pip_24_2.py
ARTIFACT_TOP := MANIFEST.json|FILES.json|README.md|CHANGELOG.(rst|md)|LICENSES|changelogs|docs|meta|playbooks|plugins|roles|tests|requirements.txt|bindep.txt
MOLECULE_SCENARIOS := $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard extensions/molecule/*/molecule.yml))))
DEMO_PLAYBOOK ?= build-golden-image.yml
DEMO_ARGS ?=
SIM_PORT ?= 8443

export PATH := $(BIN):$(PATH)

.PHONY: help test venv sanity core-oldest lint docs-lint changelog-lint build introspect pytest molecule demo bench sim clean \
	collections-link guests

help:
	@echo "make test      every gate: sanity, ansible-lint, docs + changelog lint, build + EE introspection, molecule, pytest"
	@echo "make demo      $(DEMO_PLAYBOOK) against a freshly started simulator"
	@echo "make bench     benchmarks/run.py"
	@echo "make sim       the simulator in the foreground (port $(SIM_PORT)); prints its environment first"
	@echo "make sanity | lint | docs-lint | changelog-lint | build | introspect | molecule | pytest | clean"

# ---------------------------------------------------------------------------------------------- set-up
venv: $(STAMP)

$(STAMP): requirements.txt test-requirements.txt
	@if ! command -v $(BOOTSTRAP_PYTHON) >/dev/null || ! $(BOOTSTRAP_PYTHON) -c 'import ensurepip, venv' 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv; \
	  else echo "$(BOOTSTRAP_PYTHON) with venv support is needed (apt-get install python3.11 python3.11-venv)" >&2; exit 1; fi; \
	fi
	$(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r test-requirements.txt -r requirements.txt
	touch $@

# ansible-test's pip bootstrap, replaced by an offline stand-in (docs: .ci/get_pip_24_2.py)
$(GET_PIP): .ci/get_pip_24_2.py
	mkdir -p $(dir $@)
	cp .ci/get_pip_24_2.py $@

collections-link:
	@mkdir -p $(COLLECTIONS)/ansible_collections/goldenimage
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/goldenimage/azure

# ---------------------------------------------------------------------------------------------- gates
# -k: one failing gate does not hide the others; make still exits non-zero.
test:
	$(MAKE) --no-print-directory -k sanity core-oldest lint docs-lint changelog-lint introspect molecule pytest

build: venv
	rm -rf $(BUILD)/dist
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist .
	rm -rf $(SANITY_ROOT)
	mkdir -p $(SANITY_TREE)
	tar -xzf $(ARTIFACT) -C $(SANITY_TREE)
	@# only collection content may ship: a new top-level tool directory needs a build_ignore entry
	@extra=$$(cd $(SANITY_TREE) && { ls -A | grep -vxE '$(ARTIFACT_TOP)' || true; } && \
	  { ls -A tests | grep -vxE 'sanity|config.yml' | sed 's|^|tests/|' || true; }); \
	if [ -n "$$extra" ]; then echo "not collection content in $(ARTIFACT); add to build_ignore in galaxy.yml:" $$extra >&2; exit 1; fi

# On the built artifact: build_ignore keeps the simulator, guests, benchmarks and the Python suites out.
sanity: build $(GET_PIP)
	cd $(SANITY_TREE) && ansible-test sanity --venv --python 3.11 --color no

# The oldest ansible-core that meta/runtime.yml's requires_ansible allows, in a venv of its own: the tests
# whose outcome depends on the core (Azure text stays unsafe: 2.17 templates plain strings a play reads) and
# ansible-test sanity on the same artifact as `sanity`. The range comes from requires_ansible (X.Y -> >=X.Y,<X.Y+1).
CORE_OLDEST_VENV := $(abspath $(BUILD))/venv-core-oldest
CORE_OLDEST_TESTS := tests/integration/test_unsafe_azure_data.py
CORE_OLDEST := $(shell sed -n 's/^requires_ansible: *"*>= *\([0-9]*\)\.\([0-9]*\).*/\1 \2/p' meta/runtime.yml)
CORE_OLDEST_RANGE := >=$(word 1,$(CORE_OLDEST)).$(word 2,$(CORE_OLDEST)),<$(word 1,$(CORE_OLDEST)).$(shell echo $$(($(word 2,$(CORE_OLDEST))+1)))

$(CORE_OLDEST_VENV)/.installed: requirements.txt pyproject.toml meta/runtime.yml | venv
	rm -rf $(CORE_OLDEST_VENV)
	$(BOOTSTRAP_PYTHON) -m venv $(CORE_OLDEST_VENV)
	$(CORE_OLDEST_VENV)/bin/python -m pip install -q --upgrade pip
	@# the simulator's own dependencies as pyproject.toml lists them, plus what the tests run with
	$(CORE_OLDEST_VENV)/bin/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' >$(CORE_OLDEST_VENV)/testkit-requirements.txt
	$(CORE_OLDEST_VENV)/bin/python -m pip install -q "ansible-core$(CORE_OLDEST_RANGE)" -r requirements.txt \
	  -r $(CORE_OLDEST_VENV)/testkit-requirements.txt "pytest>=8.0" "pytest-xdist>=3.5" "aiohttp>=3.9" "trustme>=1.1" "requests>=2.31"
	touch $@

core-oldest: $(CORE_OLDEST_VENV)/.installed build collections-link
	@$(CORE_OLDEST_VENV)/bin/python -c 'from ansible.release import __version__; print("== ansible-core", __version__)'
	@# ansible-test of this core bootstraps its own pip version: the same offline stand-in serves it
	@pip=$$(sed -n "s/^ *pip='\([0-9.]*\)',/\1/p" $(CORE_OLDEST_VENV)/lib/python*/site-packages/ansible_test/_internal/python_requirements.py | head -1); \
	  mkdir -p $(dir $(GET_PIP)) && cp .ci/get_pip_24_2.py $(dir $(GET_PIP))get_pip_$${pip//./_}.py
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(CORE_OLDEST_VENV)/bin/python -m pytest -p no:cacheprovider -n $(PYTEST_WORKERS) $(CORE_OLDEST_TESTS)
	cd $(SANITY_TREE) && $(CORE_OLDEST_VENV)/bin/ansible-test sanity --venv --python 3.11 --color no

# --offline installs nothing, so the collection comes from the working tree's symlink, never from an
# installed copy in ~/.ansible (which would hide a missing set-up step and lint stale code).
lint: venv collections-link
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/ansible-lint --offline

docs-lint: build
	ANSIBLE_COLLECTIONS_PATH=$(SANITY_ROOT) $(BIN)/antsibull-docs lint-collection-docs --plugin-docs $(SANITY_TREE)

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

# What ansible-builder would install in an execution environment, read from the artifact's metadata.
introspect: build
	$(BIN)/ansible-builder introspect --sanitize $(SANITY_ROOT)

molecule: venv collections-link
	@if [ -n "$(MOLECULE_SCENARIOS)" ] && [ ! -x /usr/sbin/sshd ] && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server; fi
	@for scenario in $(MOLECULE_SCENARIOS); do \
	  echo "== molecule test -s $$scenario"; \
	  ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/molecule test -s $$scenario; \
	done
	@# a copy in ~/.ansible would win over the working tree in later runs (.config/molecule/config.yml: prerun: false)
	@if [ -e $(HOME)/.ansible/collections/ansible_collections/goldenimage/azure ]; then \
	  echo "molecule installed goldenimage.azure into $(HOME)/.ansible/collections: later runs would test that copy" >&2; exit 1; fi

# Last, so that `make test` ends with pytest's summary line.
PYTEST_WORKERS ?= 2
pytest: venv collections-link
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests

# ---------------------------------------------------------------------------------------------- use
# Real local Debian guests (localguest/README.md): host tools if missing and the rootfs cache, once (root).
guests: venv
	$(BIN)/python -m localguest prepare

demo: venv collections-link
	@if [ -f $(DEMO_PLAYBOOK) ]; then \
	  ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) \
	    $(BIN)/python examples/demo/run_demo.py --playbook $(DEMO_PLAYBOOK) -- $(DEMO_ARGS); \
	else \
	  ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ANSIBLE_PYTHON_INTERPRETER=$(BIN)/python PYTHON=$(BIN)/python \
	    .ci/with-sim $(BIN)/ansible localhost -m goldenimage.azure.image_facts \
	    -a '{"location": "eastus", "images": ["Canonical:ubuntu-24_04-lts:server:latest", "RedHat:RHEL:8-lvm-gen2:8.*"]}'; \
	fi

bench: venv
	$(BIN)/python benchmarks/run.py

sim: venv
	@$(BIN)/python -m azsim env --port $(SIM_PORT)
	@echo "# paste the lines above into another shell: eval \"\$$($(BIN)/python -m azsim env --port $(SIM_PORT))\""
	$(BIN)/python -m azsim serve --port $(SIM_PORT)

clean:
	rm -rf $(VENV) $(BUILD) dist context docs-build tests/output .ansible collections .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
