"""The layer graph, before shapes are known."""
