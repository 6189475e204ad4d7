#!/bin/sh
# Writes /opt/kafka/config/server.properties from the KAFKA_* variables (the official image's
# convention), formats the KRaft storage once, then runs the broker as PID 1 (exec: SIGTERM
# reaches the JVM, which shuts Kafka down cleanly).
set -eu
CONF=/opt/kafka/config
: "${KAFKA_LOG_DIRS:=/var/lib/kafka/data}"
export KAFKA_LOG_DIRS
{
  echo "# written by run.sh from the container's KAFKA_* variables"
  env | while IFS='=' read -r name value; do
    case "$name" in
      # options of the scripts and the JVM, not properties (as in the official image)
      KAFKA_HEAP_OPTS|KAFKA_OPTS|KAFKA_JVM_PERFORMANCE_OPTS|KAFKA_LOG4J_OPTS|KAFKA_JMX_OPTS|KAFKA_VERSION) ;;
      KAFKA_*)
        key=$(printf '%s' "${name#KAFKA_}" | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g' | tr 'A-Z' 'a-z')
        printf '%s=%s\n' "$key" "$value" ;;
    esac
  done
} >"$CONF/server.properties"
cat >"$CONF/log4j.properties" <<'L4J'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=WARN
log4j.logger.kafka.server.KafkaRaftServer=INFO
L4J
if [ ! -f "$KAFKA_LOG_DIRS/meta.properties" ]; then
  # the official image's default cluster id when CLUSTER_ID is not given
  java -Xmx256m -cp '/opt/kafka/libs/*' "-Dlog4j.configuration=file:$CONF/log4j.properties" kafka.tools.StorageTool format -t "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" -c "$CONF/server.properties" --ignore-formatted
fi
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true ${KAFKA_OPTS:-} \
  -cp '/opt/kafka/libs/*' "-Dlog4j.configuration=file:$CONF/log4j.properties" kafka.Kafka "$CONF/server.properties"
