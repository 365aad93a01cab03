"""Small PyTorch modules for the four shipped models; every graph exports to WebGPU-friendly ONNX."""
