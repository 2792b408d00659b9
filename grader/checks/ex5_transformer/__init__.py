"""Exercise ex5 (Transformer blocks): its checks (checks.py) and what they need."""
