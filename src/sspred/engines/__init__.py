"""Engines that run the networks: NumPy (always available) and PyTorch (optional extra)."""
