#!/usr/bin/env bash
# `make lock`: regenerates the dependency lock with pip-compile (pip-tools).
#   constraints.txt         every direct and transitive dependency of `.[bge,test,lint]` plus pip,
#                           setuptools, wheel, pip-tools; Linux x86_64, CPython 3.11; torch is the
#                           CPU build from the machine's pip find-links (/opt/wheels).
#   constraints-docker.txt  the image's `.[bge]`: the same pins, except torch (CUDA build from
#                           PyPI, with its nvidia-* wheels), resolved without the machine's pip
#                           config because the image only reaches PyPI.
# Existing pins are kept (pip-compile only adds what is new) unless asked:
#   UPGRADE=1 make lock                      newest allowed version of everything
#   UPGRADE_PACKAGES="openai httpx" make lock   only these
# Check a new lock with a fresh venv and the tests (CONTRIBUTING.md, "Dependency lock").
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
tools=.venv-lock
# The lock describes one platform; compiling it elsewhere would pin other wheels and markers.
"$PYTHON" - <<'EOF'
import platform, sys
if sys.version_info[:2] != (3, 11) or sys.platform != "linux" or platform.machine() != "x86_64":
    sys.exit(f"lock: needs CPython 3.11 on Linux x86_64, not {platform.python_version()} "
             f"on {sys.platform}/{platform.machine()} (set PYTHON=...)")
EOF

if [ ! -x "$tools/bin/pip-compile" ]; then
  "$PYTHON" -m venv "$tools"
  # pip-tools itself is pinned by the current lock.
  PIP_CONSTRAINT="$PWD/constraints.txt" "$tools/bin/pip" install -q pip pip-tools
fi
# The old lock must not constrain the new one.
unset PIP_CONSTRAINT

upgrade=()
[ "${UPGRADE:-}" = 1 ] && upgrade+=(--upgrade)
for p in ${UPGRADE_PACKAGES:-}; do upgrade+=(--upgrade-package "$p"); done

export CUSTOM_COMPILE_COMMAND="make lock"
common=(--quiet --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links --newline LF)

echo "lock: constraints.txt (.[bge,test,lint], CPU torch)" >&2
"$tools/bin/pip-compile" "${common[@]}" "${upgrade[@]}" \
  --extra bge --extra test --extra lint \
  -o constraints.txt pyproject.toml scripts/lock.in

# The resolver pins the local build, 2.13.0+cpu. Written as plain 2.13.0, pip still takes that
# build from the machine's find-links (a local version sorts above the plain one); elsewhere it
# falls back to PyPI's CUDA build instead of failing.
sed -i -E 's/^torch==([0-9.]+)\+cpu$/# torch: the CPU build from the find-links here, PyPI'"'"'s CUDA build elsewhere\ntorch==\1/' constraints.txt

# The image: start from the dev/CI pins (pip-compile keeps an output file's pins where they still
# fit), drop the CPU torch, and resolve against PyPI alone.
echo "lock: constraints-docker.txt (.[bge], CUDA torch from PyPI)" >&2
grep -v -E '^torch==' constraints.txt > constraints-docker.txt
env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_INDEX_URL PIP_CONFIG_FILE=/dev/null \
  "$tools/bin/pip-compile" "${common[@]}" \
  --extra bge \
  -o constraints-docker.txt pyproject.toml scripts/lock-docker.in

for f in constraints.txt constraints-docker.txt; do
  echo "lock: $f: $(grep -c -E '^[A-Za-z0-9]' "$f") packages" >&2
done
