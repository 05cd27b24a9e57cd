#!/usr/bin/env bash
# `make build`: leaves bin/central and bin/agency. (At the root, ./agency
# would collide with the agency/ source folder, so both go in bin/.)
# Where `deno compile` can download its runtime (online), they are compiled
# executables. Where it cannot (air-gapped), they are small launchers that
# run the same code with the local Deno and the same permissions, and this
# script says so.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin

central_flags=(--allow-net --allow-read --allow-write --allow-env --allow-run)
# Permissions, and the V8 flags of agency/v8_flags.ts.
agency_flags=(--allow-net --allow-read --allow-env --v8-flags=--no-concurrent-recompilation)

launcher() { # name, main module, flags (permissions, V8 flags)...
  local name=$1 module=$2
  shift 2
  cat > "bin/$name" <<SCRIPT
#!/usr/bin/env bash
# Air-gapped stand-in for the compiled \`$name\` (written by make build):
# runs $module with the local Deno.
root=\$(cd "\$(dirname "\${BASH_SOURCE[0]}")/.." && pwd)
exec deno run --quiet --no-prompt --config="\$root/deno.json" $* "\$root/$module" "\$@"
SCRIPT
  chmod +x "bin/$name"
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The draw's worker thread is loaded by URL at run time: compile includes it.
if deno compile "${central_flags[@]}" --include server/store/draw_worker.ts \
  --output bin/central server/main.ts >"$log" 2>&1 &&
  deno compile "${agency_flags[@]}" --output bin/agency agency/main.ts >>"$log" 2>&1; then
  echo "built bin/central and bin/agency (compiled executables)"
else
  echo "note: deno compile could not build executables (it downloads its runtime; offline?):" >&2
  grep -m1 -E 'Download|error' "$log" >&2 || true
  echo "note: bin/central and bin/agency are launchers that run the same code with the local Deno instead." >&2
  launcher central server/main.ts "${central_flags[@]}"
  launcher agency agency/main.ts "${agency_flags[@]}"
  echo "built bin/central and bin/agency (air-gapped launchers)"
fi
