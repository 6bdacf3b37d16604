"""Built-in architectures and how a name on the command line finds its file.

Paths are plain strings here (os.path), which keeps pathlib off the start-up path.
"""

from __future__ import annotations

import os

from inception_cost.errors import UsageError, did_you_mean
from inception_cost.graph.nodes import Network

SUFFIXES = (".yaml", ".yml")
MODEL_SUFFIXES = (".onnx", ".keras", ".json")  # read by inception_cost.importers (loaded on use)


def builtin_dir() -> str:
    """The YAML files: inside the installed package, or at the top of a source checkout."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the package root
    installed = os.path.join(here, "architectures")
    if os.path.isdir(installed) and any(f.endswith(".yaml") for f in os.listdir(installed)):
        return installed
    return os.path.join(os.path.dirname(here), "architectures")


def builtin_names() -> list[str]:
    return sorted(f[: -len(".yaml")] for f in os.listdir(builtin_dir()) if f.endswith(".yaml"))


def builtin_paths() -> list[str]:
    return [os.path.join(builtin_dir(), f"{name}.yaml") for name in builtin_names()]



def load(ref: str, variant: str = "reduced", skip_unknown: bool = False) -> Network:
    """The layer graph of a built-in name, a YAML path or a model file (ONNX, Keras), with
    `variant` as in document.load_network; `skip_unknown` counts a model's unknown
    operators as zero."""
    path, display = resolve(ref)
    if os.path.splitext(path)[1].lower() in MODEL_SUFFIXES:
        from inception_cost.importers import import_model
        from inception_cost.source.document import parse_text

        return parse_text(import_model(path, skip_unknown).text, display)
    from inception_cost.source.document import load_network

    return load_network(path, display, variant=variant)


def resolve(ref: str) -> tuple[str, str]:
    """(path, display name) for a built-in name or a path to a YAML or model file."""
    suffix = os.path.splitext(ref)[1].lower()
    if suffix in SUFFIXES + MODEL_SUFFIXES or os.path.exists(ref) or "/" in ref or "\\" in ref:
        return ref, ref
    path = os.path.join(builtin_dir(), f"{ref}.yaml")
    if os.path.isfile(path):
        return path, os.path.basename(path)
    names = builtin_names()
    raise UsageError(f"unknown architecture '{ref}'{did_you_mean(ref, names)}; built-ins:"
                     f" {', '.join(names)} (or give the path of a .yaml, .onnx, .keras or Keras .json file)")
