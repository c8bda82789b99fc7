#!/usr/bin/env bash
# Debian packages the test suite drives for real: Chromium (browser test), Tesseract with English
# and German (OCR; DejaVu renders the test scans with umlauts), Dovecot (IMAP server on loopback).
# Installs only what is missing.
set -euo pipefail
want=(chromium tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu dovecot-imapd fonts-dejavu-core)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "system-deps: apt-get not found; install ${missing[*]} yourself (tests needing them will be skipped)" >&2
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The dovecot package starts a system-wide server; the tests run their own on loopback.
if command -v systemctl >/dev/null && systemctl is-active --quiet dovecot 2>/dev/null; then
  $SUDO systemctl stop dovecot || true
fi
