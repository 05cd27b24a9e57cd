#!/bin/sh
# Checks that the server on tp0_testing_net echoes a message: netcat runs in
# a throwaway container on that network (no netcat on the host, no
# published ports). Address and port come from server/config.ini.
# Prints `action: test_echo_server | result: success` (exit 0) or
# `action: test_echo_server | result: fail` (exit 1), within a few seconds.
# POSIX sh: runs the same as `sh validar-echo-server.sh` (dash), under bash
# and as ./validar-echo-server.sh.
set -u
cd "$(dirname "$0")" || exit 1

NETWORK=${NETWORK:-tp0_testing_net}
IMAGE=${NETCAT_IMAGE:-tp0-netcat:latest}
CONFIG=${CONFIG:-server/config.ini}

ini_value() {
  sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\\([^[:space:]#;]*\\).*/\\1/p" "$CONFIG" | tail -n 1
}
fail() {
  if [ -n "${1:-}" ]; then echo "$1" >&2; fi
  echo "action: test_echo_server | result: fail"
  exit 1
}

[ -r "$CONFIG" ] || fail "Cannot read $CONFIG"
address=$(ini_value SERVER_IP)
port=$(ini_value SERVER_PORT)
{ [ -n "$address" ] && [ -n "$port" ]; } || fail "Cannot find SERVER_IP and SERVER_PORT in $CONFIG"

# The course's tests build only server and client: on a machine that has
# never run `make docker-image`, the netcat image is built here, once
# (from BusyBox on the registry).
if [ "$IMAGE" = tp0-netcat:latest ] && ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  docker build -q -t "$IMAGE" -f docker/netcat.Dockerfile docker >/dev/null 2>&1 ||
    fail "Cannot build $IMAGE from docker/netcat.Dockerfile: no registry? (make docker-image builds it without one)"
fi

# A server that is still starting (its name not yet known, its port not yet
# open: netcat fails at once) gets up to 8 tries a second apart; an answer,
# or a try that lasted (a connection that stayed silent), ends the tries.
# The whole probe ends within 20 s.
message="echo probe $(date +%s)-$$"
probe='i=0
while [ "$i" -lt 8 ]; do
  start=$(date +%s)
  answer=$(printf "%s\n" "$1" | timeout 5 nc -w 3 "$2" "$3")
  if [ -n "$answer" ] || [ $(($(date +%s) - start)) -ge 2 ]; then
    printf "%s\n" "$answer"
    exit 0
  fi
  i=$((i + 1))
  sleep 1
done
exit 1'
answer=$(timeout 20 docker run --rm --network "$NETWORK" "$IMAGE" \
  sh -c "$probe" nc "$message" "$address" "$port" 2>/dev/null)
[ "$answer" = "$message" ] || fail
echo "action: test_echo_server | result: success"
