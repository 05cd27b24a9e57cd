#!/usr/bin/env bash
# Writes a Docker Compose file with the central (`server`) and N agencies
# (`client1` … `clientN`) on the network tp0_testing_net.
#
#   ./generar-compose.sh <output-file> <clients>
#
# Needs bash and Python 3 (for the secret and the agencies' keys), nothing
# of this project's: it runs on a course machine without Deno.
#
# The file works with `docker compose` (v2) and `docker-compose` 1.29: no
# top-level `name:`, an explicitly named network, every string quoted
# (1.29 reads YAML 1.1, where 1999-03-17 is a date). Config files and data
# are bind-mounted read-only, so editing them needs no image rebuild.
#
# Each file gets a fresh random AUTH_SECRET: the central's environment has
# it, and each agency's environment only its own key (CLI_AUTH_KEY: hex of
# HMAC-SHA256(secret, "agency:K"), as lib/agency_auth.ts derives it), never
# the secret. Neither is in an image, nor in config.ini or config.yaml
# (which the course's harness overwrites).
#
# On a course branch (ej1 … ej8, see `make course-branches`) the tracked
# file .exercise pins the agencies' stage: its CLI_MODE line goes into each
# agency's environment, where it outranks config.yaml.
#
# DATA_DIR (relative to the project root) picks other agency files, e.g.
# DATA_DIR=../shared/tp0-dataset for the course's dataset.
#
# DATABASE=postgres CENTRALS=N (1 to 9; default 1) stores in PostgreSQL
# instead: a `database` service (the official postgres:15 image, with a
# fresh random password) and N centrals, `server` and `server2` … `serverN`,
# each agency listing all of them in CLI_SERVER_ADDRESS (its own first,
# round-robin), moving to the next when one fails.
set -euo pipefail
usage() {
  echo "usage: $0 <output-file> <clients>   (clients: a whole number, 0 or more)" >&2
  exit 2
}
[ "$#" -eq 2 ] || usage
[ -n "$1" ] || usage
[[ "$2" =~ ^[0-9]{1,6}$ ]] || usage
output=$1
clients=$((10#$2))
database=${DATABASE:-file}
centrals=${CENTRALS:-1}
case "$database" in
  file | postgres) ;;
  *)
    echo "Cannot generate the compose file: DATABASE is file or postgres, not \"$database\"" >&2
    exit 2
    ;;
esac
[[ "$centrals" =~ ^[1-9]$ ]] || {
  echo "Cannot generate the compose file: CENTRALS is a number from 1 to 9, not \"$centrals\"" >&2
  exit 2
}
if [ "$database" = file ] && [ "$centrals" -ne 1 ]; then
  echo "Cannot generate the compose file: CENTRALS=$centrals needs DATABASE=postgres (the file store is one host's)" >&2
  exit 2
fi
cd "$(dirname "$0")"
echo "Nombre del archivo de salida: $output"
echo "Cantidad de clientes: $clients"

command -v python3 >/dev/null 2>&1 || {
  echo "Cannot generate the compose file: python3 is not installed (it draws the secret and derives the agencies' keys)" >&2
  exit 1
}

mode=""
if [ -f .exercise ]; then
  mode=$(sed -n 's/^CLI_MODE=\(.*\)$/\1/p' .exercise | tail -n 1)
  case "$mode" in
    echo | bet | lottery) ;;
    *)
      echo "Cannot generate the compose file: .exercise has CLI_MODE=\"$mode\", not one of echo, bet, lottery" >&2
      exit 1
      ;;
  esac
fi

data_dir=${DATA_DIR:-./.data}
# Compose reads a path that does not start with . or / as a volume name.
case "$data_dir" in
  . | /* | .*) ;;
  *) data_dir="./$data_dir" ;;
esac

# The secret on the first line, agency K's key on line K + 1, the
# database's password last (a read loop, not mapfile: macOS has bash 3.2).
auth=()
while IFS= read -r line; do auth+=("$line"); done < <(python3 - "$clients" <<'PY'
import hashlib, hmac, secrets, sys
secret = secrets.token_hex(32)
print(secret)
for k in range(1, int(sys.argv[1]) + 1):
    print(hmac.new(secret.encode(), f"agency:{k}".encode(), hashlib.sha256).hexdigest())
print(secrets.token_hex(24))
PY
)
[ "${#auth[@]}" -eq $((clients + 2)) ] || {
  echo "Cannot generate the compose file: python3 did not give a secret and $clients key(s)" >&2
  exit 1
}

# A YAML double-quoted string.
q() {
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}

# The centrals' port, as config.ini (bind-mounted) sets it, for the agencies' list.
port=""
if [ -f server/config.ini ]; then
  port=$(sed -n 's/^SERVER_PORT *= *\([0-9][0-9]*\).*$/\1/p' server/config.ini | tail -n 1)
fi
port=${port:-12345}
central_name() { if [ "$1" -eq 1 ]; then echo server; else echo "server$1"; fi; }

central() {
  echo "  $1:"
  echo "    container_name: \"$1\""
  echo "    image: \"server:latest\""
  echo "    environment:"
  if [ "$clients" -gt 0 ]; then echo "      AGENCIES: \"$clients\""; fi
  echo "      AUTH_SECRET: \"${auth[0]}\""
  if [ "$database" = postgres ]; then
    echo "      DATABASE_URL: \"postgres://lottery:${auth[clients + 1]}@database:5432/lottery\""
  fi
  echo "    volumes:"
  echo "      - \"./server/config.ini:/app/config.ini:ro\""
  echo "      - \"/app/.storage\""
  echo "    networks:"
  echo "      - \"testing_net\""
  if [ "$database" = postgres ]; then
    echo "    depends_on:"
    echo "      database:"
    echo "        condition: \"service_healthy\""
  fi
  echo "    stop_grace_period: \"10s\""
  # The test is the image's HEALTHCHECK (`central health`); only its timing here.
  echo "    healthcheck:"
  echo "      interval: \"2s\""
  echo "      timeout: \"5s\""
  echo "      retries: 30"
}

postgres_service() {
  echo "  database:"
  echo "    container_name: \"database\""
  echo "    image: \"postgres:15\""
  echo "    environment:"
  echo "      POSTGRES_USER: \"lottery\""
  echo "      POSTGRES_PASSWORD: \"${auth[clients + 1]}\""
  echo "      POSTGRES_DB: \"lottery\""
  echo "    volumes:"
  echo "      - \"/var/lib/postgresql/data\""
  echo "    networks:"
  echo "      - \"testing_net\""
  echo "    healthcheck:"
  echo "      test: \"pg_isready -U lottery -d lottery\""
  echo "      interval: \"2s\""
  echo "      timeout: \"5s\""
  echo "      retries: 30"
  echo "    stop_grace_period: \"10s\""
}

# Agency K's CLI_SERVER_ADDRESS: every central, its own (K mod N) first.
addresses() {
  local j list=""
  for ((j = 0; j < centrals; j++)); do
    list+="${list:+,}$(central_name $((($1 - 1 + j) % centrals + 1))):$port"
  done
  echo "$list"
}

document() {
  echo "services:"
  local c
  for ((c = 1; c <= centrals; c++)); do central "$(central_name "$c")"; done
  if [ "$database" = postgres ]; then postgres_service; fi
  local k
  for ((k = 1; k <= clients; k++)); do
    echo "  client$k:"
    echo "    container_name: \"client$k\""
    echo "    image: \"client:latest\""
    echo "    environment:"
    echo "      CLI_ID: \"$k\""
    if [ -n "$mode" ]; then echo "      CLI_MODE: \"$mode\""; fi
    echo "      CLI_AUTH_KEY: \"${auth[k]}\""
    if [ "$database" = postgres ]; then
      echo "      CLI_SERVER_ADDRESS: \"$(addresses "$k")\""
    fi
    # The sample bet of the bet stage (exercise 5), one document per agency.
    echo "      NOMBRE: \"Santiago Lionel\""
    echo "      APELLIDO: \"Lorca\""
    echo "      DOCUMENTO: \"$((30904465 + k - 1))\""
    echo "      NACIMIENTO: \"1999-03-17\""
    echo "      NUMERO: \"7574\""
    echo "    volumes:"
    echo "      - \"./client/config.yaml:/app/config.yaml:ro\""
    if [ -f "$data_dir/agency-$k.csv" ]; then
      echo "      - $(q "$data_dir/agency-$k.csv:/data/agency.csv:ro")"
    fi
    echo "    networks:"
    echo "      - \"testing_net\""
    # The agencies start once `central health` passes in the server.
    echo "    depends_on:"
    for ((c = 1; c <= centrals; c++)); do
      echo "      $(central_name "$c"):"
      echo "        condition: \"service_healthy\""
    done
    echo "    stop_grace_period: \"10s\""
  done
  echo "networks:"
  echo "  testing_net:"
  echo "    name: \"tp0_testing_net\""
  echo "    ipam:"
  echo "      driver: \"default\""
  echo "      config:"
  echo "        - subnet: \"172.25.125.0/24\""
}

for ((k = 1; k <= clients; k++)); do
  if [ ! -f "$data_dir/agency-$k.csv" ]; then
    echo "note: $data_dir/agency-$k.csv does not exist: client$k gets no data file (the generate-data task of deno.json makes agency files)" >&2
  fi
done
# It holds the secret: readable by its owner only (when it is created).
document | (umask 077 && cat >"$output")
if [ "$database" = postgres ]; then
  echo "$output: $centrals central(s) on PostgreSQL (database) and $clients client(s) on tp0_testing_net"
else
  echo "$output: server and $clients client(s) on tp0_testing_net"
fi
