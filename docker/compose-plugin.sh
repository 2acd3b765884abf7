#!/bin/sh
# Build Docker Compose v2 from its Go module once, cache the binary by version, install it as
# the docker CLI's plugin. Debian 12 packages no Compose v2, and its docker-compose 1.29
# rejects a compose file without a `version` key; `go install` refuses this module (its go.mod
# has replace directives), so it is built inside the downloaded module.
set -eu
VERSION="${1:?usage: compose-plugin.sh VERSION CACHE_DIR}"
CACHE="${2:?usage: compose-plugin.sh VERSION CACHE_DIR}"
BINARY="$CACHE/docker-compose-$VERSION"
PLUGIN="$HOME/.docker/cli-plugins/docker-compose"

if [ ! -x "$BINARY" ]; then
  command -v go >/dev/null || { echo "building Docker Compose needs Go on PATH" >&2; exit 1; }
  echo "building Docker Compose $VERSION from its Go module (about two minutes)"
  dir=$(go mod download -json "github.com/docker/compose/v2@$VERSION" \
        | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { echo "go mod download gave no module folder for compose $VERSION" >&2; exit 1; }
  mkdir -p "$CACHE"
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath \
     -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$VERSION" \
     -o "$BINARY.tmp" ./cmd)
  mv "$BINARY.tmp" "$BINARY"
fi
if ! cmp -s "$BINARY" "$PLUGIN" 2>/dev/null; then
  mkdir -p "$(dirname "$PLUGIN")"
  cp "$BINARY" "$PLUGIN.tmp" && mv "$PLUGIN.tmp" "$PLUGIN"
fi
