#!/usr/bin/env bash
# Writes a Docker Compose file with the central (`server`) and N agencies
# (`client1` … `clientN`) on the network tp0_testing_net.
#
#   ./generar-compose.sh <output-file> <clients>
set -euo pipefail
usage() {
  echo "usage: $0 <output-file> <clients>   (clients: a whole number, 0 or more)" >&2
  exit 2
}
[ "$#" -eq 2 ] || usage
[ -n "$1" ] || usage
[[ "$2" =~ ^[0-9]+$ ]] || usage
cd "$(dirname "$0")"
echo "Nombre del archivo de salida: $1"
echo "Cantidad de clientes: $2"
exec deno run --quiet --allow-read --allow-write --allow-env scripts/generate_compose.ts "$1" "$2"
