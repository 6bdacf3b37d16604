"""Models written for a framework, read directly: ONNX files (with the optional `onnx`
package) and Keras model configs (`model.to_json()`, or a `.keras` file's config.json).

A reader builds the imported graph (`graph.Graph`, shapes by the engine's own kinds);
`fuse` folds what only changes how it reads; `structure` recovers concats, residuals and
gates and groups modules by the source's names; the result is a graph-form document,
written as YAML (`yamlwriter`) and read back through the same path as any YAML file, so
analysing a model file and analysing the YAML that `inception-cost import` writes give
the same numbers by construction.
"""

from __future__ import annotations

import os
from typing import Any

from inception_cost.core.shapes import format_shape
from inception_cost.source.catalog import MODEL_SUFFIXES as MODEL_SUFFIXES  # re-exported

ONNX_SUFFIXES = (".onnx",)  # the others (.keras, .json) are Keras's


def is_model_file(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in MODEL_SUFFIXES


class Imported:
    """One model read: the graph-form document and its YAML text."""

    def __init__(self, document: dict[str, Any], text: str) -> None:
        self.document = document
        self.text = text


def import_model(path: str, skip_unknown: bool = False) -> Imported:
    """Read a model file into a graph-form document (`skip_unknown`: count operators the
    tool does not know as zero instead of refusing them)."""
    from inception_cost.importers import blocks, fuse, structure, yamlwriter

    if os.path.splitext(path)[1].lower() in ONNX_SUFFIXES:
        from inception_cost.importers.onnx_reader import read
    else:
        from inception_cost.importers.keras_reader import read
    graph = read(path, skip_unknown)
    fuse.simplify(graph)
    items, shared = blocks.share(structure.to_items(structure.recover(graph)))
    if not items:
        from inception_cost.errors import ArchitectureError

        raise ArchitectureError("the model has no layers: its output is its input, at most reshaped or"
                                " sliced whole", file=path)
    notes = list(graph.notes)
    if graph.skipped:
        count = sum(graph.skipped.values())
        which = ", ".join(f"{op} x{n}" for op, n in sorted(graph.skipped.items()))
        notes.append(f"Skipped: {count} node{'s' if count != 1 else ''} of operators inception-cost does"
                     f" not know, counted as zero ({which}).")
    document: dict[str, Any] = {"name": graph.name, "source": graph.source}
    if notes:
        document["notes"] = "\n".join(notes)
    document["input"] = format_shape(graph.ops[0].shape)
    if shared:
        document["blocks"] = shared
    document["layers"] = items
    return Imported(document, yamlwriter.dump(document))
