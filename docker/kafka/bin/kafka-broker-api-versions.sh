#!/bin/sh
exec /opt/kafka/bin/run-class.sh org.apache.kafka.tools.BrokerApiVersionsCommand "$@"
