#!/usr/bin/env bash
# `make wheel-smoke`: build the wheel, check it carries every tracked data file, install it (no
# extras) into a clean virtualenv under the lock, and use it from a folder outside the checkout:
# `db upgrade` on a fresh embedded PostgreSQL, ingest a few small files, a retrieval-only `ask`.
# Exits non-zero at the first failure. PYTHON picks the interpreter (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
PYTHON=${PYTHON:-python3}
export PIP_CONSTRAINT=${PIP_CONSTRAINT:-$repo/constraints.txt}
export PIP_DISABLE_PIP_VERSION_CHECK=1 SCARF_NO_ANALYTICS=true DO_NOT_TRACK=true \
  UNSTRUCTURED_DISABLE_NOTICE=1 HF_HUB_OFFLINE=1

work=$(mktemp -d "${TMPDIR:-/tmp}/homerag-wheel.XXXXXX")
data=$work/data
cleanup() {
  # An embedded server left behind by a failed step must not outlive the run.
  if [ -f "$data/pgdata/postmaster.pid" ]; then
    kill "$(head -1 "$data/pgdata/postmaster.pid")" 2>/dev/null || true
    sleep 1
  fi
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\nwheel-smoke: %s\n' "$*" >&2; }

step "build the wheel"
"$PYTHON" -m venv "$work/build"
"$work/build/bin/pip" install -q --upgrade pip
"$work/build/bin/pip" wheel -q --no-deps -w "$work/dist" .
wheel=$(ls "$work"/dist/homerag-*.whl)
echo "$(basename "$wheel")" >&2

step "the wheel carries every tracked file of app/, ingest/, migrations/, prompts/"
git ls-files -- app ingest migrations prompts > "$work/tracked.txt"
"$PYTHON" - "$wheel" "$work/tracked.txt" <<'EOF'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
shipped_as = {"migrations/": "app/_migrations/", "prompts/": "app/_prompts/"}
missing = []
for path in open(sys.argv[2]).read().split():
    for repo_prefix, wheel_prefix in shipped_as.items():
        if path.startswith(repo_prefix):
            path = wheel_prefix + path[len(repo_prefix):]
    if path not in names:
        missing.append(path)
if missing:
    sys.exit(f"wheel-smoke: {len(missing)} tracked files missing from the wheel: {missing[:10]}")
print(f"{len(names)} files in the wheel, none missing", file=sys.stderr)
EOF

step "install the wheel (no extras) into a clean virtualenv, under $(basename "$PIP_CONSTRAINT")"
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/pip" install -q --upgrade pip
"$work/venv/bin/pip" install -q "$wheel"
"$work/venv/bin/pip" check

# From here on: a folder with no checkout, no alembic.ini, no repository on sys.path.
mkdir -p "$work/run" "$work/docs"
cd "$work/run"
export HOMERAG_DATA_DIR=$data HOMERAG_EMBEDDER=lexical-hash
unset HOMERAG_DATABASE_URL HOMERAG_LLM_BASE_URL PYTHONPATH
bin=$work/venv/bin

step "resources come from the installed package"
"$bin/python" - "$work/venv" <<'EOF'
import sys
from app.core.resources import migrations_dir, prompts_dir, sample_dir
for folder in (migrations_dir(), prompts_dir(), sample_dir()):
    if not str(folder).startswith(sys.argv[1]):
        sys.exit(f"wheel-smoke: {folder} is not inside the installed package")
    print(folder, file=sys.stderr)
EOF

step "homerag db upgrade"
"$bin/homerag" db upgrade

step "homerag ingest (a few small files)"
cat > "$work/docs/gym.md" <<'EOF'
# FitLife membership
The gym membership can be cancelled with three months' notice to the end of the contract year.
EOF
cat > "$work/docs/heating.txt" <<'EOF'
The boiler service is due every October; the technician's number is on the invoice.
EOF
cat > "$work/docs/letter.html" <<'EOF'
<html><body><h1>Rent adjustment</h1><p>From 1 November the monthly rent rises to 1,040 euro.</p></body></html>
EOF
cp "$(ls "$("$bin/python" -c 'from app.core.resources import sample_dir; print(sample_dir())')"/contracts/*.docx | head -1)" "$work/docs/"
"$bin/homerag" ingest --strict "$work/docs"

step "homerag ask (retrieval-only: no language model configured)"
"$bin/homerag" ask --json "When can I cancel the gym membership?" > "$work/ask.json"
"$PYTHON" - "$work/ask.json" <<'EOF'
import json, sys
answer = json.load(open(sys.argv[1]))
paths = [c.get("path") or "" for c in answer.get("citations", [])]
if not any(p.endswith("gym.md") for p in paths):
    sys.exit(f"wheel-smoke: the gym note is not among the cited passages: {paths}")
print(f"mode={answer.get('mode')}, {len(paths)} citations, first: {paths[0]}", file=sys.stderr)
EOF

step "homerag status, demo --help"
"$bin/homerag" status > /dev/null
"$bin/homerag" demo --help > /dev/null

step "passed"
