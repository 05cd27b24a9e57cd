#!/usr/bin/env bash
# End-to-end scenarios in Docker (`make e2e`): the images as built by
# `make docker-image`, the compose file from generar-compose.sh, and the
# course's log lines as the only window into the system. Each scenario
# starts from a clean state (compose down, config files restored). Waits are
# bounded polls of logs or exits, never fixed sleeps.
#
#   tests/e2e/run.sh [scenario-number ...]     (default: all)
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=e2e-work
FILE=docker-compose-e2e.yaml
DATASET=../shared/tp0-dataset
if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); else COMPOSE=(docker-compose); fi

passed=0
failed=0
mkdir -p "$WORK/orig"
cp server/config.ini client/config.yaml "$WORK/orig/"

dc() { "${COMPOSE[@]}" -f "$FILE" "$@"; }
restore() { cp "$WORK/orig/config.ini" server/config.ini; cp "$WORK/orig/config.yaml" client/config.yaml; }
clean() {
  if [ -f "$FILE" ]; then dc down -v -t 5 --remove-orphans >/dev/null 2>&1; fi
  docker rm -f -v server client1 client2 client3 client4 client5 >/dev/null 2>&1
  docker network rm tp0_testing_net >/dev/null 2>&1
  restore
  return 0
}
finish() {
  clean
  rm -f "$FILE"
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap finish EXIT

check() { # description command...
  if "${@:2}"; then
    echo "  ok    $1"
    passed=$((passed + 1))
  else
    echo "  FAIL  $1"
    failed=$((failed + 1))
  fi
}
logs() { docker logs "$1" 2>&1; }
# Not `logs | grep -q`: grep quitting early breaks the pipe, and with
# pipefail a match would read as a failure.
has_log() { grep -Eq -- "$2" <<<"$(logs "$1")"; }
wait_log() { # container regex [seconds]
  local deadline=$((SECONDS + ${3:-60}))
  until has_log "$1" "$2"; do
    if ((SECONDS >= deadline)); then
      echo "    timed out waiting for /$2/ in $1" >&2
      return 1
    fi
    sleep 0.2
  done
}
exit_code() { # container [seconds]: waits for the exit and prints the code
  timeout "${2:-120}" docker wait "$1" 2>/dev/null || echo "timeout"
}
exits_zero() { [ "$(exit_code "$1" "${2:-120}")" = 0 ]; }
no_fail() { # containers...
  local c
  for c in "$@"; do
    if has_log "$c" 'result: fail'; then
      logs "$c" | grep 'result: fail' | head -3 >&2
      return 1
    fi
  done
}
running() { [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
field() { sed -n "s/.*| $2: \\([^|]*[^ |]\\).*/\\1/p" <<<"$1" | head -n 1; }

agency_config() { # mode amount period maxAmount [level]
  cat >client/config.yaml <<EOF
server:
  address: "server:12345"
loop:
  amount: $2
  period: "$3"
log:
  level: "${5:-INFO}"
batch:
  maxAmount: $4
mode: "$1"
data:
  path: "/data/agency.csv"
EOF
}
server_config() { # key value
  sed -i "s/^$1 *=.*/$1 = $2/" server/config.ini
}
up() { # clients [data-dir]
  DATA_DIR=${2:-./.data} ./generar-compose.sh "$FILE" "$1" >/dev/null &&
    dc up -d >/dev/null 2>&1
}
data() { # dir agencies bets winners
  deno run --quiet --allow-read --allow-write scripts/generate_data.ts \
    --out "$1" --agencies "$2" --bets "$3" --winners "$4" >/dev/null
}

scenario_1() {
  echo "1. echo stage with 1, 2 and 5 clients"
  local spec n m k i
  for spec in "1 1" "2 3" "5 5"; do
    read -r n m <<<"$spec"
    clean
    agency_config echo "$m" 100ms 100
    up "$n"
    for ((k = 1; k <= n; k++)); do
      check "client$k of $n exits 0" exits_zero "client$k"
      for ((i = 1; i <= m; i++)); do
        check "client$k of $n received message $i" has_log "client$k" "action: receive_message \| result: success \| client_id: $k \| msg: \[CLIENT $k\] Message N°$i$"
      done
      check "client$k of $n logs loop_finished" has_log "client$k" "action: loop_finished \| result: success \| client_id: $k"
    done
    check "the server keeps running ($n clients)" running server
    check "no fail logged ($n clients)" no_fail server $(seq -f 'client%g' 1 "$n")
  done
}

scenario_2() {
  echo "2. configuration changes take effect without a rebuild"
  local before spec backlog level amount period
  before=$(docker image inspect -f '{{.Id}}' server:latest client:latest)
  for spec in "7 DEBUG 2 150ms" "9 INFO 1 1s"; do
    read -r backlog level amount period <<<"$spec"
    clean
    server_config SERVER_LISTEN_BACKLOG "$backlog"
    server_config LOGGING_LEVEL "$level"
    agency_config echo "$amount" "$period" 100 "$level"
    up 1
    check "client1 exits 0 ($spec)" exits_zero client1
    check "server config line shows backlog $backlog, level $level" has_log server "action: config \| result: success \| port: 12345 \| listen_backlog: $backlog \| logging_level: $level$"
    check "client config line shows $amount, $period, $level" has_log client1 "action: config \| result: success \| client_id: 1 \| server_address: server:12345 \| loop_amount: $amount \| loop_period: $period \| log_level: $level$"
  done
  check "the images were not rebuilt" test "$before" = "$(docker image inspect -f '{{.Id}}' server:latest client:latest)"
}

validator_says() { # expected-word [shell]: ./validar-echo-server.sh, or run by that shell
  local out
  out=$(${2:+$2 }./validar-echo-server.sh 2>/dev/null)
  [ "$out" = "action: test_echo_server | result: $1" ]
}
plain_server() { # nc arguments...
  docker rm -f server >/dev/null 2>&1
  docker run -d --name server --network tp0_testing_net tp0-netcat nc -ll -p 12345 "$@" >/dev/null
}

scenario_3() {
  echo "3. the echo validator"
  clean
  up 0
  wait_log server 'action: central_ready'
  check "success against the central" validator_says success
  check "... the same run by sh" validator_says success sh
  check "... the same run by dash" validator_says success dash
  check "... the same run by bash" validator_says success bash
  check "the central logged the probe" has_log server 'action: receive_message \| result: success \| ip: 172\.25\.125\.[0-9]+ \| msg: echo probe'
  clean
  docker network create --subnet 172.25.125.0/24 tp0_testing_net >/dev/null
  plain_server -e cat
  check "success against a plain echo server" validator_says success
  plain_server -e sh -c 'read line; echo "not $line"'
  check "fail against a server that answers something else" validator_says fail
  plain_server -e sleep 30
  local started=$SECONDS
  check "fail against a server that answers nothing" validator_says fail
  check "... within a few seconds" test $((SECONDS - started)) -le 15
  docker rm -f server >/dev/null
  check "fail when there is no server" validator_says fail
}

scenario_4() {
  echo "4. SIGTERM: docker stop and compose down during a long echo loop"
  clean
  agency_config echo 1000 200ms 100
  up 2
  check "a long echo loop is running" wait_log client1 'Message N°2$'
  docker stop -t 10 client1 >/dev/null
  check "docker stop client1: exit 0" exits_zero client1 5
  check "client1 logs its shutdown" has_log client1 'action: shutdown \| result: success'
  docker stop -t 15 server >/dev/null
  check "docker stop server: exit 0" exits_zero server 5
  for action in listener_closed bets_file_closed kv_closed lockfile_closed worker_stopped worker_closed workers_closed; do
    check "server logs $action" has_log server "action: $action \| result: success"
  done
  check "server logs shutdown success" has_log server 'action: shutdown \| result: success'

  clean
  agency_config echo 1000 200ms 100
  up 2
  check "a long echo loop is running" wait_log client2 'Message N°2$'
  # The containers are removed right after they stop: follow each one's
  # logs and exit code from now on, before `down`.
  local c pids=()
  for c in server client1 client2; do
    (docker logs -f "$c" >"$WORK/down-$c.log" 2>&1) &
    pids+=($!)
    (docker wait "$c" >"$WORK/code-$c" 2>&1) &
    pids+=($!)
  done
  dc down -v -t 15 >/dev/null 2>&1
  for pid in "${pids[@]}"; do timeout 30 tail --pid="$pid" -f /dev/null; done
  for c in server client1 client2; do
    check "compose down: $c exits 0" test "$(cat "$WORK/code-$c")" = 0
    check "compose down: $c logs shutdown" grep -Eq 'action: shutdown \| result: success' "$WORK/down-$c.log"
  done
}

scenario_5() {
  echo "5. bet stage"
  clean
  agency_config bet 1 1s 100
  up 1
  check "client1 exits 0" exits_zero client1
  local sent stored
  sent=$(logs client1 | grep 'action: apuesta_enviada | result: success')
  stored=$(logs server | grep 'action: apuesta_almacenada | result: success')
  check "apuesta_enviada logged" test -n "$sent"
  check "the DNI sent is the DNI stored ($(field "$sent" dni))" test -n "$(field "$sent" dni)" -a "$(field "$sent" dni)" = "$(field "$stored" dni)"
  check "no fail logged" no_fail server client1
}

batches_ok() { # bets maxAmount: every batch but the last full, the counts add up
  local bets=$1 max=$2 counts sum=0 n last i=0
  counts=$(logs server | sed -n 's/.*action: apuesta_recibida | result: success | cantidad: \([0-9]*\).*/\1/p')
  n=$(wc -w <<<"$counts")
  for c in $counts; do
    i=$((i + 1))
    sum=$((sum + c))
    if ((i < n)) && ((c != max)); then return 1; fi
    last=$c
  done
  ((sum == bets)) && ((last <= max)) && ((n == (bets + max - 1) / max))
}

scenario_6() {
  echo "6. batches: every batch but the last full, counts add up"
  local spec bets max
  for spec in "64 100" "99 100" "64 16" "99 21"; do
    read -r bets max <<<"$spec"
    clean
    rm -rf "$WORK/data6"
    data "$WORK/data6" 1 "$bets" 1
    agency_config lottery 1 100ms "$max"
    up 1 "$WORK/data6"
    check "$bets bets, maxAmount $max: client1 exits 0" exits_zero client1
    check "$bets bets, maxAmount $max: batches full but the last, sum $bets" batches_ok "$bets" "$max"
    check "$bets bets, maxAmount $max: no fail logged" no_fail server client1
  done
}

draw_after_every_batch() {
  local last_batch draw
  last_batch=$(logs server | grep -n 'action: apuesta_recibida' | tail -n 1 | cut -d: -f1)
  draw=$(logs server | grep -n 'action: sorteo | result: success' | cut -d: -f1)
  [ -n "$draw" ] && [ "$(wc -l <<<"$draw")" = 1 ] && ((draw > last_batch))
}

lottery_run() { # clients bets winners(comma list) [data-dir]
  local n=$1 bets=$2 winners=$3 dir=${4:-} k expected line
  clean
  if [ -z "$dir" ]; then
    dir="$WORK/data7"
    rm -rf "$dir"
    data "$dir" "$n" "$bets" "$winners"
  fi
  agency_config lottery 1 100ms 100
  up "$n" "$dir"
  for ((k = 1; k <= n; k++)); do
    check "$n clients: client$k exits 0" exits_zero "client$k" 600
    expected=$(cut -d, -f"$k" <<<"$winners")
    line=$(logs "client$k" | grep 'action: consulta_ganadores | result: success')
    check "$n clients: client$k has $expected winners" test "$(field "$line" cant_ganadores)" = "$expected"
  done
  check "$n clients: sorteo logged once, after every apuesta_recibida" draw_after_every_batch
  check "$n clients: no fail logged" no_fail server $(seq -f 'client%g' 1 "$n")
}

scenario_7() {
  echo "7. the draw: 3 clients (2, 1, 0 winners) and 5 clients (1 … 5 winners)"
  lottery_run 3 100 2,1,0
  lottery_run 5 60 1,2,3,4,5
}

scenario_8() {
  echo "8. the course dataset with 5 clients"
  if [ ! -d "$DATASET" ]; then
    check "the course dataset is at $DATASET" false
    return
  fi
  local winners="" k rows
  for k in 1 2 3 4 5; do
    winners+="${winners:+,}$(grep -c ',7574.\?$' "$DATASET/agency-$k.csv")"
  done
  lottery_run 5 0 "$winners" "$DATASET"
  rows=$(docker cp server:/app/.storage/bets.csv - | tar -xO | wc -l)
  check "78,697 rows stored (found $rows)" test "$rows" = 78697
}

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(1 2 3 4 5 6 7 8)
for s in "${scenarios[@]}"; do
  "scenario_$s"
done
echo
echo "e2e: $passed passed, $failed failed"
[ "$failed" = 0 ]
