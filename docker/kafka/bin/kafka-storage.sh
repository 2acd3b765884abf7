#!/bin/sh
exec /opt/kafka/bin/run-class.sh kafka.tools.StorageTool "$@"
