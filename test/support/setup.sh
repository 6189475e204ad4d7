#!/usr/bin/env bash
# What the test suites need from the machine, installed before `npm test` runs them (the `pretest`
# script; also `npm run test:setup`). On Debian as root it installs what is missing with apt-get;
# otherwise (not root, or no apt-get: macOS, other distributions) it installs nothing, lists what
# is missing, which suites will fail or be skipped without it, and how to install it, and lets
# the run go on (the rest of the suites still say something). It never fails the run.
#
# On the Docker path (a Docker engine answers, or DUMPSTREAM_INFRA=docker; Docker Desktop) the
# tests run Kafka, Redis, Prometheus, promtool and Chromium (test/render) from containers: only a
# compose command is asked of the machine.
#
#   DUMPSTREAM_TEST_SETUP=check   only check, install nothing
#   DUMPSTREAM_TEST_SETUP=skip    do nothing at all
set -uo pipefail

MODE="${DUMPSTREAM_TEST_SETUP:-install}"
[[ "$MODE" == skip ]] && exit 0

say() { printf 'test setup: %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
redis_answers() {
  local url="${REDIS_URL:-}"
  [[ -n "$url" ]] && return 0 # the tests use the Redis they are given
  (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null
}
docker_engine() { have docker && docker info >/dev/null 2>&1; }
# the infra the tests will pick (test/support/infra.ts chooseInfra)
docker_path() {
  case "${DUMPSTREAM_INFRA:-}" in
    docker) return 0 ;;
    local) return 1 ;;
    *) docker_engine ;;
  esac
}
chromium_ok() { have chromium && [[ -x /usr/bin/chromium ]]; }
prometheus_ok() { have prometheus && have promtool; }
compose_ok() { docker compose version >/dev/null 2>&1 || have docker-compose; }
redis_ok() { redis_answers || have redis-server; }
java_ok() {
  have java || return 1
  local v
  v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
  [[ -n "$v" && "$v" -ge 17 ]]
}

missing=()
need() { # name, check (a command without |), Debian packages, the suites that need it, fail|skip
  if ! eval "$2"; then missing+=("$1|$2|$3|$4|${5:-fail}"); fi
}
# on the Docker path Chromium runs from an image of Debian's package (test/render/chromium.ts), and
# promtool and prometheus from the Prometheus image
if ! docker_path; then
  need chromium chromium_ok chromium 'test/render (HTML/SVG pictures in headless Chromium)'
  need prometheus prometheus_ok prometheus 'test/deploy/prometheus-config (promtool), test/e2e/prometheus (a real prometheus)'
fi
need docker-compose compose_ok docker-compose 'test/deploy/compose (`docker compose config`; no engine needed)'
# Kafka and Redis: only when the tests are not given them and they do not run them in containers.
if [[ -z "${KAFKA_BROKERS:-}" ]] && ! docker_path; then
  need java java_ok default-jre-headless 'every integration and fault suite (the local Kafka broker runs from its jars)'
  need mvn 'have mvn' maven 'the first run of the integration suites (fetches Kafka'"'"'s jars once)'
fi
if ! docker_path; then
  need redis redis_ok redis-server 'every integration and fault suite (nothing answers on 127.0.0.1:6379)'
fi

[[ ${#missing[@]} -eq 0 ]] && exit 0

pkgs=()
for m in "${missing[@]}"; do IFS='|' read -r _ _ p _ _ <<<"$m"; pkgs+=($p); done
if [[ "$MODE" == install && "$(id -u)" == 0 ]] && have apt-get; then
  say "installing ${pkgs[*]} (apt-get; once per machine)"
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null; then
    # Debian's prometheus package starts a server on :9090; the tests start their own.
    if have systemctl && systemctl is-active --quiet prometheus 2>/dev/null; then systemctl stop prometheus; fi
  else
    say "apt-get install failed; see above"
  fi
  still=()
  for m in "${missing[@]}"; do IFS='|' read -r _ check _ _ _ <<<"$m"; eval "$check" || still+=("$m"); done
  missing=("${still[@]+"${still[@]}"}")
  [[ ${#missing[@]} -eq 0 ]] && exit 0
fi

if [[ "$MODE" == install ]] && ! have apt-get; then
  say "no apt-get on this machine: installed nothing (skipped: ${pkgs[*]}); install them with its own package manager"
fi
for outcome in fail skip; do
  listed=0
  for m in "${missing[@]}"; do
    IFS='|' read -r name _ pkg what how <<<"$m"
    [[ "$how" == "$outcome" ]] || continue
    if ((listed++ == 0)); then
      if [[ "$outcome" == fail ]]; then say "missing on this machine — these suites will fail until it is installed:"
      else say "missing on this machine — these suites will be skipped (and say so) until it is installed:"; fi
    fi
    printf '  %-15s needed by %s\n  %-15s Debian: apt-get install -y %s\n' "$name" "$what" '' "$pkg" >&2
  done
done
if [[ "$(id -u)" != 0 ]] && have apt-get; then say "run as root (or with sudo: sudo npm run test:setup) to have them installed"; fi
exit 0
