"""Exercise ex2 (Swish with custom autograd): its checks (checks.py) and what they need."""
