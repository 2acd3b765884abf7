# pinlake: `make demo` runs the main job on the local stack; `make test` runs the whole suite.
# Both set everything up first: Debian packages (Java 17, Maven) when missing, Python packages
# at the versions (and hashes) pinned in requirements/lock.txt, the JVM artifacts pinned in
# pinlake/artifacts.txt and the browser assets pinned in pinlake/web_assets.txt. Downloads land
# in caches outside the clone (~/.cache/pinlake), so a second set-up, even from a fresh clone,
# downloads nothing.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
CACHE ?= $(HOME)/.cache/pinlake
LOCK := requirements/lock.txt
LOCK_ID := $(shell sha256sum $(LOCK) | cut -c1-12)
WHEELS := $(CACHE)/wheels/$(LOCK_ID)
PIP_ID := $(shell sha256sum requirements/pip.txt | cut -c1-12)
PIP := $(CACHE)/pip/$(PIP_ID)/bin/pip
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: setup system browser docker venv jvm tools objectstore web test test-cluster test-replicated test-compose unit integration demo lock clean-venv help

help:
	@echo "make demo   set up, start the local stack, run the pipeline, print answers"
	@echo "make test   set up and run the whole test suite"
	@echo "make setup  only set up (system packages, Python venv, JVM artifacts, Go tools, browser assets)"
	@echo "make unit   only the unit tests (no services)"

setup: system venv jvm tools web

# Java 17, Maven and npm from Debian's packages, only when they are missing.
system:
	@command -v java >/dev/null && command -v mvn >/dev/null || { \
	  echo "installing Java 17 and Maven from Debian's packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless maven; }
	@command -v npm >/dev/null || { \
	  echo "installing npm from Debian's packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	@command -v $(PYTHON) >/dev/null || { echo "pinlake needs $(PYTHON) on PATH"; exit 1; }

# Headless Chromium from Debian's packages, for the tests that look at pages as a person would.
browser:
	@command -v chromium >/dev/null || { \
	  echo "installing Chromium from Debian's packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# A Docker engine and Docker Compose v2, for the compose test, only when missing: dockerd,
# containerd and runc from Debian's docker.io, debootstrap for the base images (Docker Hub is
# out of reach), and Compose built once from its Go module into $(TOOLS) (Debian 12 has no
# Compose v2), installed as the docker CLI's plugin. The test starts dockerd when it is not running.
COMPOSE_VERSION := v2.40.3
TOOLS := $(CACHE)/tools
docker:
	@command -v dockerd >/dev/null && command -v docker >/dev/null && command -v debootstrap >/dev/null || { \
	  echo "installing the Docker engine and debootstrap from Debian's packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap; }
	@sh docker/compose-plugin.sh $(COMPOSE_VERSION) $(TOOLS)

# Build every pinned package into a wheelhouse once, each download checked against the lock's
# hashes (sdists too: pyspark is published as one); then install offline from it. The wheels
# built here from sdists have hashes of their own, so the install reads the pins without them.
$(WHEELS)/.complete: | $(PIP)  # content-addressed by the lock hash, so no mtime prerequisite
	@mkdir -p $(WHEELS)
	$(PIP) wheel -q --require-hashes -r $(LOCK) -w $(WHEELS)
	sed -e '/--hash=/d' -e 's/ \\$$//' $(LOCK) > $(WHEELS)/pins.txt
	@touch $@

$(BIN)/.installed-$(LOCK_ID): $(WHEELS)/.complete pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --no-index --find-links $(WHEELS) -r $(WHEELS)/pins.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-index --no-deps --no-build-isolation -e .
	@rm -f $(BIN)/.installed-* && touch $@

venv: $(BIN)/.installed-$(LOCK_ID)

# The pinned pip (requirements/pip.txt) in a venv of its own, which builds the wheelhouse.
$(PIP):
	$(PYTHON) -m venv $(CACHE)/pip/$(PIP_ID)
	$(CACHE)/pip/$(PIP_ID)/bin/pip install -q --disable-pip-version-check --require-hashes -r requirements/pip.txt

jvm: venv
	@$(BIN)/python -m pinlake.jvm

# Tools that exist only as Go modules (pinlake/gotools.py: Prometheus' StatsD exporter, which
# serves Airflow's metrics), built once into ~/.cache/pinlake/tools/<name>-<version>/.
tools: venv
	@$(BIN)/python -m pinlake.gotools

# SeaweedFS's `weed`, the S3-compatible object store (pinlake/gotools.py), built once into the same
# cache: the first time, 2 GB of Go modules and about five minutes on two cores (a 233 MB binary).
# `make test` needs it; `make demo` when the lakehouse is on the local object store.
objectstore: venv
	@$(BIN)/python -m pinlake.gotools weed

# The browser assets pinned in pinlake/web_assets.txt (pinlake/web.py: Swagger UI, ReDoc, the
# Data Docs' scripts), fetched once with `npm pack` into ~/.cache/pinlake/web/.
web: venv
	@$(BIN)/python -m pinlake.web

test: setup browser docker objectstore
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Only the test that runs silver and gold on a Spark standalone master + worker (also in `test`).
test-cluster: setup
	$(BIN)/python -m pytest -m cluster $(PYTEST_ARGS)

# Only the tests that run a three-broker Kafka and kill brokers under load (also in `test`).
test-replicated: setup
	$(BIN)/python -m pytest -m replicated $(PYTEST_ARGS)

# Only the test that builds the images and runs `docker compose up` in a Docker engine (also in `test`).
test-compose: setup docker
	$(BIN)/python -m pytest -m compose $(PYTEST_ARGS)

unit: venv web
	$(BIN)/python -m pytest -m unit $(PYTEST_ARGS)

integration: setup browser objectstore
	$(BIN)/python -m pytest -m integration $(PYTEST_ARGS)

# The stack stays up afterwards; `.venv/bin/pinlake down` stops it. With the lakehouse on an object
# store and no endpoint (PINLAKE_LAKEHOUSE_ROOT=s3://pinlake/lake make demo) the local store is built too.
demo: setup $(if $(and $(filter s3://% s3a://%,$(PINLAKE_LAKEHOUSE_ROOT)),$(if $(PINLAKE_S3_ENDPOINT)$(AWS_ENDPOINT_URL),,x)),objectstore)
	$(BIN)/python -m pinlake.demo $(DEMO_ARGS)

# Resolve pyproject.toml's dependencies and its dev extra into requirements/lock.txt, and the
# runtime part alone into requirements/runtime.txt (what the image installs), each pin with the
# sha256 of every file published for it. Pins already in the files are kept; UPGRADE=--upgrade
# moves them to the newest versions that fit. Needs the package index.
UV_VERSION := 0.13.9
UPGRADE ?=
lock:
	rm -rf /tmp/pinlake-lock && $(PYTHON) -m venv /tmp/pinlake-lock
	/tmp/pinlake-lock/bin/pip install -q uv==$(UV_VERSION)
	/tmp/pinlake-lock/bin/uv pip compile -q pyproject.toml --extra dev --python-version 3.11 --generate-hashes \
	  --custom-compile-command "make lock" $(UPGRADE) -o $(LOCK)
	/tmp/pinlake-lock/bin/uv pip compile -q pyproject.toml --python-version 3.11 --generate-hashes \
	  --custom-compile-command "make lock" -c $(LOCK) -o requirements/runtime.txt

clean-venv:
	rm -rf $(VENV)
