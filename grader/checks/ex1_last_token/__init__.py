"""Exercise ex1 (Last-token extraction): its checks (checks.py) and what they need."""
