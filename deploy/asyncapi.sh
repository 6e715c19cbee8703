#!/usr/bin/env bash
# The AsyncAPI document of every service, generated from its code by `faststream docs gen`.
#   asyncapi.sh write   regenerate services/<name>/asyncapi.json
#   asyncapi.sh check   fail when a checked-in document differs from what the code generates
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-check}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for dir in services/*/; do
  dir=${dir%/}
  name=$(basename "$dir")
  [[ -f $dir/aftersales_$name/app.py ]] || continue
  generated=$tmp/$name.json
  faststream docs gen "aftersales_$name.app:asyncapi_app" --factory -o "$generated" >/dev/null
  # Sorted keys: FastStream lists publishers in no fixed order.
  python3 -m json.tool --indent 2 --sort-keys "$generated" >"$generated.pretty"
  if [[ $mode == write ]]; then
    cp "$generated.pretty" "$dir/asyncapi.json"
    echo "wrote $dir/asyncapi.json"
  elif ! diff -q "$generated.pretty" "$dir/asyncapi.json" >/dev/null 2>&1; then
    echo "asyncapi: $dir/asyncapi.json is out of date with the code; run 'make asyncapi'" >&2
    status=1
  fi
done
[[ $mode == write || $status != 0 ]] || echo "asyncapi: every service's document matches its code"
exit $status
