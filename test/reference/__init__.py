"""Token-by-token PyTorch references of the nl dialect's semantics (see README.md)."""
