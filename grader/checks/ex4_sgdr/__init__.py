"""Exercise ex4 (Warmup + SGDR schedule): its checks (checks.py) and what they need."""
