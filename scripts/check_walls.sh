#!/usr/bin/env bash
# The walls of the house: which module folder of libwsm/src may include
# which (docs/architecture.md opens with the same map). Fails, naming the
# file and line, when an include crosses a wall the map does not allow, a
# file sits outside the folders, or a public header includes an internal
# one. Reads the includes as text: no build needed.
#   scripts/check_walls.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# folder: the folders it may include besides itself (public headers,
# "wsm/...", every folder may include).
declare -A allowed=(
  [vocabulary]=""
  [io]=""
  [request]="vocabulary"
  [delivery]="vocabulary"
  [machine]="vocabulary request delivery"
  [session]="vocabulary request delivery io"
  [observability]="vocabulary io machine"
  [runtime]="vocabulary request delivery machine session io observability"
  [pool]="vocabulary request delivery runtime observability"
  [settings]="vocabulary request"
)

problems=0
complain() {
  echo "walls: $1"
  problems=$((problems + 1))
}

for file in libwsm/src/*; do
  [ -d "$file" ] || complain "$file is outside the module folders"
done
for dir in libwsm/src/*/; do
  folder=$(basename "$dir")
  [ -n "${allowed[$folder]+set}" ] || complain "folder $folder is not on the map"
done

while IFS=: read -r file line target; do
  folder=$(cut -d/ -f3 <<<"$file")
  wanted=${target%%/*}
  if [ "$wanted" == "$target" ]; then
    complain "$file:$line includes \"$target\": name its folder"
    continue
  fi
  [ "$wanted" == "$folder" ] && continue
  case " ${allowed[$folder]:-} " in
    *" $wanted "*) ;;
    *) complain "$file:$line: $folder may not include $target" ;;
  esac
done < <(grep -rHn '^#include "' libwsm/src |
           sed -n 's/^\([^:]*\):\([0-9]*\):#include "\(.*\)".*/\1:\2:\3/p' |
           grep -v ':wsm/')

# Public headers see public headers only.
while IFS= read -r hit; do
  complain "$hit: a public header includes an internal one"
done < <(grep -Hn '^#include "' libwsm/include/wsm/*.hpp | grep -v '"wsm/' || true)

if [ "$problems" -gt 0 ]; then
  echo "walls: $problems include(s) cross a wall of docs/architecture.md"
  exit 1
fi
echo "walls: every include keeps to the map"
