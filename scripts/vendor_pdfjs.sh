#!/bin/sh
# Vendor pdf.js (Mozilla, Apache-2.0) into app/http/static/pdfjs/ from the npm registry, so the
# document page renders PDFs from our own origin (no CDN, works offline and under a strict CSP).
# Only what the page uses is kept: the ES-module library, its worker, and the licence.
# Run from anywhere: sh scripts/vendor_pdfjs.sh   (needs npm and tar; commit the result)
set -eu
VERSION="5.7.284"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/app/http/static/pdfjs"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT INT TERM

cd "$WORK"
npm pack --silent "pdfjs-dist@$VERSION" >/dev/null
tar -xzf "pdfjs-dist-$VERSION.tgz"
test "$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' package/package.json | head -n 1)" = "$VERSION"

rm -rf "$DEST"
mkdir -p "$DEST"
cp package/build/pdf.min.mjs package/build/pdf.worker.min.mjs "$DEST/"
cp package/LICENSE "$DEST/LICENSE"
cat > "$DEST/README.md" <<NOTE
pdf.js $VERSION (npm package \`pdfjs-dist\`, https://github.com/mozilla/pdf.js), Apache License 2.0
(see LICENSE), copied unmodified by scripts/vendor_pdfjs.sh: build/pdf.min.mjs and
build/pdf.worker.min.mjs. Used by ../pdfview.js to render a cited PDF page with its passage marked.
NOTE
du -sh "$DEST"
