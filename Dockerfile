# The pinlake image: Python 3.11, a Java 17 runtime, the pinned JVM artifacts and the locked
# Python packages. The API, the bronze stream, the emulator, Airflow and the optional Spark
# cluster all run from it, with the same `pinlake` commands as the local stack.

FROM python:3.11.14-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PINLAKE_DATA_ROOT=/data \
    PINLAKE_JVM_CACHE=/opt/pinlake-jvm
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps tini \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
WORKDIR /opt/pinlake
COPY requirements/lock.txt requirements/lock.txt
RUN pip install -r requirements/lock.txt

# Resolve the pinned JVM artifacts with Maven, which only this stage needs.
FROM base AS jvm
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends maven \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY pinlake pinlake
COPY jvm jvm
RUN pip install --no-deps -e . && python -m pinlake.jvm

FROM base
COPY --from=jvm /opt/pinlake-jvm /opt/pinlake-jvm
COPY . .
RUN pip install --no-deps -e . && mkdir -p /data && useradd --create-home --uid 50000 pinlake \
    && chown -R pinlake /data
USER 50000
VOLUME ["/data"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["pinlake", "--help"]
