#!/usr/bin/env bash
# Makes (or moves) the local branches ej1 … ej8 the course's delivery asks
# for (`make course-branches`): each is the current commit plus one commit
# adding .exercise, which pins that exercise's agency stage (CLI_MODE:
# echo for ej1–ej4, bet for ej5, lottery for ej6–ej8). generar-compose.sh
# puts it in every agency's environment, so it holds with the course's own
# config.yaml (which has no `mode:`); the central serves every stage.
#
#   scripts/course_branches.sh
#
# The working tree, the index and the current branch are never touched:
# the commits are written with a scratch index. Running it again from the
# same commit leaves the branches as they are. Then:
#   git push origin ej1 ej2 ej3 ej4 ej5 ej6 ej7 ej8
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "Cannot make the course branches: $1" >&2
  exit 1
}

git rev-parse --verify -q HEAD >/dev/null || fail "there is no commit yet"
[ -z "$(git status --porcelain)" ] ||
  fail "the working tree has uncommitted changes or untracked files (commit or stash them first: the branches hold only what is committed)"
if git cat-file -e HEAD:.exercise 2>/dev/null; then
  fail "the current commit is already a course branch's (it has .exercise): switch to your working branch (e.g. main) first"
fi

case "$(git symbolic-ref -q --short HEAD || true)" in
  ej[1-8]) fail "you are on $(git symbolic-ref --short HEAD), one of the branches it would move: switch to your working branch (e.g. main) first" ;;
esac

base=$(git rev-parse HEAD)
short=$(git rev-parse --short HEAD)
moved=0
index=$(mktemp)
trap 'rm -f "$index"' EXIT

for n in 1 2 3 4 5 6 7 8; do
  case $n in
    [1-4]) mode=echo what="the echo loop" ;;
    5) mode=bet what="the single bet from the environment" ;;
    *) mode=lottery what="batches, finish and winners" ;;
  esac
  blob=$(printf '%s\n' \
    "# Course exercise ej$n (branch ej$n, made by \`make course-branches\`):" \
    "# generar-compose.sh gives every agency this stage, whatever client/config.yaml says." \
    "EXERCISE=ej$n" \
    "CLI_MODE=$mode" | git hash-object -w --stdin)
  rm -f "$index"
  GIT_INDEX_FILE=$index git read-tree "$base"
  GIT_INDEX_FILE=$index git update-index --add --cacheinfo "100644,$blob,.exercise"
  tree=$(GIT_INDEX_FILE=$index git write-tree)

  branch=ej$n
  old=$(git rev-parse -q --verify "refs/heads/$branch" || true)
  if [ -n "$old" ] && [ "$(git rev-parse "$old^{tree}")" = "$tree" ] &&
    [ "$(git rev-parse -q --verify "$old^" || true)" = "$base" ]; then
    echo "$branch: already $short + .exercise ($mode), left as it is"
    continue
  fi
  commit=$(git commit-tree "$tree" -p "$base" -m "ej$n: the agencies run $what (.exercise: CLI_MODE=$mode)")
  git update-ref -m "course-branches: $branch from $short" "refs/heads/$branch" "$commit"
  if [ -z "$old" ]; then
    echo "$branch: created at $(git rev-parse --short "$commit") ($short + .exercise, $mode)"
  else
    moved=1
    echo "$branch: moved from $(git rev-parse --short "$old") to $(git rev-parse --short "$commit") ($short + .exercise, $mode)"
  fi
done
force=""
[ "$moved" = 0 ] || force="--force "
echo "still on $(git symbolic-ref -q --short HEAD || echo "$short (detached)"); deliver with: git push ${force}origin ej1 ej2 ej3 ej4 ej5 ej6 ej7 ej8"
