"""inception-cost: what a convolutional network costs, read from its architecture table.

The cost core (loading, shapes, counting) uses only the standard library and PyYAML;
the command line and its renderers live apart so that the library imports fast.
"""

__version__ = "0.1.0"
