"""The GPU verification (``python -m tests.gpu OUT_DIR``); see __main__.py."""
