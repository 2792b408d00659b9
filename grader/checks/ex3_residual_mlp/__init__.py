"""Exercise ex3 (Residual MLP): its checks (checks.py) and what they need."""
