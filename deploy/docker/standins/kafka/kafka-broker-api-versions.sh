#!/bin/sh
# The official image's tool of the same name (the compose healthcheck calls it).
exec java -Xmx128m -XX:TieredStopAtLevel=1 -cp '/opt/kafka/libs/*' -Dlog4j.configuration=file:/opt/kafka/tools-log4j.properties \
  kafka.admin.BrokerApiVersionsCommand "$@"
