#!/bin/sh
# Run one Kafka class with the image's jars: run-class.sh CLASS [ARGS...]
exec java ${KAFKA_HEAP_OPTS:-} ${KAFKA_OPTS:-} -Dlog4j2.configurationFile=/opt/kafka/log4j2.properties \
  -cp '/opt/kafka/libs/*' "$@"
