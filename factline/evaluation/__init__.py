"""The evaluation harness: extraction scored against hand-made reference annotations (`make eval`)."""
