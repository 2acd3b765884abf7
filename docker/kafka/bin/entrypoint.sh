#!/bin/sh
# The broker's settings come from KAFKA_* variables, as in the official image:
# KAFKA_LOG_DIRS -> log.dirs (`_` is `.`, `__` is `_`, `___` is `-`). Without KAFKA_LOG_DIRS
# the data goes where the official image puts it, /tmp/kraft-combined-logs.
set -eu
CONFIG=/opt/kafka/config/server.properties
: > "$CONFIG"
for name in $(env | sed -n 's/^KAFKA_\([A-Z0-9_]*\)=.*/\1/p'); do
  case "$name" in HEAP_OPTS|OPTS|JVM_PERFORMANCE_OPTS|LOG4J_OPTS) continue ;; esac
  key=$(echo "$name" | tr 'A-Z' 'a-z' | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')
  printf '%s=%s\n' "$key" "$(printenv "KAFKA_$name")" >> "$CONFIG"
done
grep -q '^log.dirs=' "$CONFIG" || echo "log.dirs=/tmp/kraft-combined-logs" >> "$CONFIG"
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted \
  --cluster-id "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" --config "$CONFIG"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}" exec /opt/kafka/bin/run-class.sh kafka.Kafka "$CONFIG"
