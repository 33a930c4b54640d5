#!/usr/bin/env bash
# The npm package a course author installs: builds the WebAssembly modules (scripts/build-wasm.sh),
# then packs www/ as www/package.json's `files` list it, with EMBED.md as the package's README and
# the licences, into dist/finetune-lab-VERSION.tgz. Prints that path as its last line.
#
# VERSION is the crate's (crate/Cargo.toml): one version for the crate, the CLI and the package;
# www/package.json must say the same, or this stops.
set -euo pipefail
case "${1:-}" in -h | --help) exec node "$(dirname "$0")/usage.mjs" "$0" ;; esac
cd "$(dirname "$0")/.."
say() { printf '\n== %s\n' "$*" >&2; }

version=$(awk -F'"' '/^version = / { print $2; exit }' crate/Cargo.toml)
declared=$(node -p "require('./www/package.json').version")
if [ "$version" != "$declared" ]; then
  echo "www/package.json says version $declared, crate/Cargo.toml $version: make them the same" >&2
  exit 1
fi

scripts/build-wasm.sh >&2
for f in www/pkg/finetune_lab_bg.wasm.br www/pkg-cpu/finetune_lab_bg.wasm.br www/base/tiny.ftlab.br; do
  [ -f "$f" ] || { echo "$f is missing: the package ships the precompressed copies (build without SKIP_WASM_OPT)" >&2; exit 1; }
done

# A staging copy: npm packs a folder's README and licences from its root.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R www/. "$stage/"
cp www/EMBED.md "$stage/README.md"
cp LICENSE-MIT LICENSE-APACHE "$stage/"
mkdir -p dist
say "npm pack (finetune-lab $version)"
tarball=$(cd "$stage" && npm pack --silent --pack-destination "$OLDPWD/dist")
tarball=$(echo "$tarball" | tail -n 1)
echo "dist/$tarball: $(stat -c %s "dist/$tarball") bytes" >&2
echo "$PWD/dist/$tarball"
