# The pinlake image: Python 3.11, a Java 17 runtime, the pinned JVM artifacts, the pinned browser
# assets (pinlake/web_assets.txt: /docs, /redoc and the Data Docs work offline) and the runtime Python
# packages (requirements/runtime.txt: no test tools). The API, the bronze stream, the
# emulator, Airflow and the optional Spark cluster all run from it, as the non-root user
# `pinlake` (uid 50000), with the same `pinlake` commands as the local stack.
#
# PYTHON_IMAGE names the base image; its default is the public one. The compose test builds
# on a stand-in made from Debian's packages (docker/python), where Docker Hub is out of reach.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PINLAKE_DATA_ROOT=/data \
    PINLAKE_JVM_CACHE=/opt/pinlake-jvm \
    PINLAKE_WEB_CACHE=/opt/pinlake-web
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps tini \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
WORKDIR /opt/pinlake
COPY requirements/pip.txt requirements/runtime.txt requirements/
RUN pip install --require-hashes -r requirements/pip.txt && pip install -r requirements/runtime.txt

# Resolve the pinned JVM artifacts with Maven and compile pinlake's Java, which only this stage
# needs (Maven, a JDK). Only the files the resolver reads are copied, so that a change elsewhere
# in the code does not resolve again.
FROM base AS jvm
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends maven openjdk-17-jdk-headless \
    && rm -rf /var/lib/apt/lists/*
COPY pinlake/__init__.py pinlake/settings.py pinlake/jvm.py pinlake/artifacts.txt pinlake/
COPY pinlake/java pinlake/java
RUN PYTHONPATH=/opt/pinlake python -m pinlake.jvm

# Fetch the pinned browser assets with npm, which only this stage needs.
FROM base AS web
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends npm \
    && rm -rf /var/lib/apt/lists/*
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
COPY pinlake/__init__.py pinlake/settings.py pinlake/web.py pinlake/web_assets.txt pinlake/
RUN PYTHONPATH=/opt/pinlake python -m pinlake.web

FROM base
COPY --from=jvm /opt/pinlake-jvm /opt/pinlake-jvm
COPY --from=web /opt/pinlake-web /opt/pinlake-web
COPY . .
# pinlake itself is installed as a package (its dependencies are the runtime set above). /data
# holds everything the stack writes; /opt/airflow-auth the Airflow passwords file. Both belong
# to `pinlake`, so the named volumes mounted there start out as its own.
RUN pip install --no-deps . \
    && useradd --create-home --uid 50000 pinlake \
    && mkdir -p /data /opt/airflow-auth \
    && chown pinlake /data /opt/airflow-auth
USER 50000
VOLUME ["/data"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["pinlake", "--help"]
