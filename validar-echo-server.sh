#!/usr/bin/env bash
# Checks that the server on tp0_testing_net echoes a message: netcat runs in
# a throwaway container on that network (no netcat on the host, no
# published ports). Address and port come from server/config.ini.
# Prints `action: test_echo_server | result: success` (exit 0) or
# `action: test_echo_server | result: fail` (exit 1), within a few seconds.
set -uo pipefail
cd "$(dirname "$0")"

NETWORK=${NETWORK:-tp0_testing_net}
IMAGE=${NETCAT_IMAGE:-tp0-netcat:latest}
CONFIG=${CONFIG:-server/config.ini}

ini_value() {
  sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\\([^[:space:]#;]*\\).*/\\1/p" "$CONFIG" | tail -n 1
}
fail() {
  [ -n "${1:-}" ] && echo "$1" >&2
  echo "action: test_echo_server | result: fail"
  exit 1
}

[ -r "$CONFIG" ] || fail "Cannot read $CONFIG"
address=$(ini_value SERVER_IP)
port=$(ini_value SERVER_PORT)
[ -n "$address" ] && [ -n "$port" ] || fail "Cannot find SERVER_IP and SERVER_PORT in $CONFIG"

message="echo probe $(date +%s%N)"
answer=$(timeout 15 docker run --rm --network "$NETWORK" "$IMAGE" \
  sh -c 'printf "%s\n" "$1" | timeout 5 nc -w 3 "$2" "$3"' nc "$message" "$address" "$port" 2>/dev/null)
[ "$answer" = "$message" ] || fail
echo "action: test_echo_server | result: success"
