"""The oracles: complete implementations of every exercise, each tested in tests/ against PyTorch."""
