#!/usr/bin/env bash
# Regenerates carbonscope's LLM data files (packages/carbonscope/data/llm/*.json) and the conformance vectors
# (packages/carbonscope/test/fixtures/llm/ecologits-vectors.json) from the ecologits package on PyPI, pinned below.
# The virtual environment lives outside the repository (override with ECOLOGITS_VENV); nothing
# here is shipped or needed by the tests, which read only the files written.
set -euo pipefail
cd "$(dirname "$0")/../.."

version="0.11.3"
venv="${ECOLOGITS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/carbonscope/ecologits-venv}"
python="${PYTHON:-python3}"

command -v "$python" >/dev/null || { echo "ecologits:data needs $python (Python >= 3.10)" >&2; exit 1; }
if [[ ! -x "$venv/bin/python" ]]; then
  echo "creating $venv"
  "$python" -m venv "$venv"
fi
installed="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("ecologits"))' 2>/dev/null || true)"
if [[ "$installed" != "$version" ]]; then
  echo "installing ecologits==$version into $venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "ecologits==$version"
fi

"$venv/bin/python" tools/ecologits/export_data.py "$version" packages/carbonscope/data/llm
"$venv/bin/python" tools/ecologits/vectors.py "$version" packages/carbonscope/data/llm/models.json \
  packages/carbonscope/test/fixtures/llm/ecologits-vectors.json
