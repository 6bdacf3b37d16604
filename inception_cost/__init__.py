"""inception-cost: what a convolutional network costs, read from its architecture.

    import inception_cost as ic
    net = ic.analyse("googlenet")              # a built-in name or a YAML path
    net.params, net.macs, net.module("3a").branches
    ic.compare("naive", "reduced").to_markdown()
    ic.sweep("googlenet", "3a", {"#5x5 reduce": range(4, 65, 4)}).rows
    ic.factorize("inception-v3", rule="nxn-to-1xn").to_markdown()

The API (`api.py`) is loaded on first use, so `import inception_cost` stays cheap; the
cost core uses only the standard library and PyYAML.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.3.0"

__all__ = ["analyse", "analyze", "builtins", "compare", "factorize", "sweep", "Cost", "Comparison",
           "Factorization", "Sweep", "__version__"]

if TYPE_CHECKING:
    from inception_cost.api import (
        Comparison,
        Cost,
        Factorization,
        Sweep,
        analyse,
        analyze,
        builtins,
        compare,
        factorize,
        sweep,
    )


def __getattr__(name: str) -> Any:
    if name in __all__:
        from inception_cost import api

        return getattr(api, name)
    raise AttributeError(f"module 'inception_cost' has no attribute '{name}'")
