#!/usr/bin/env bash
# Refreshes the committed JavaScript dependencies from the npm registry (make vendor). Running the
# product never needs Node.js: the built files below are committed with their version and licence.
set -euo pipefail
cd "$(dirname "$0")/.."
HLS_VERSION=${HLS_VERSION:-1.7.4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "hls.js@$HLS_VERSION" --silent >/dev/null && tar xzf "hls.js-$HLS_VERSION.tgz")
dest=platform/static/vendor/hls.js
mkdir -p "$dest"
cp "$work/package/dist/hls.min.js" "$work/package/LICENSE" "$dest/"
echo "hls.js $HLS_VERSION (Apache-2.0), from the npm registry: dist/hls.min.js. Refresh with make vendor." > "$dest/VERSION"
echo "vendored hls.js $HLS_VERSION"
