"""Exercise ex6 (The complete training loop): its checks (checks.py) and what they need."""
