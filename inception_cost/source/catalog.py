"""Built-in architectures and how a name on the command line finds its file.

The rule (README, Commands): an argument is a path when it contains a path separator
or ends in one of `SUFFIXES`; anything else is a built-in name, whatever files or
folders the current directory holds (`./googlenet` names the file `googlenet`).
Paths are plain strings here (os.path), which keeps pathlib off the start-up path.
"""

from __future__ import annotations

import os

from inception_cost.errors import UsageError, did_you_mean, shorten
from inception_cost.graph.nodes import Network

SUFFIXES = (".yaml", ".yml")  # file names that are paths, not built-in names
MODEL_SUFFIXES = (".onnx", ".keras", ".json")  # read by inception_cost.importers (loaded on use)
SEPARATORS = tuple({"/", "\\", os.sep, os.altsep or "/"})


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


def is_path(ref: str, suffixes: tuple[str, ...] = SUFFIXES) -> bool:
    """Whether a command-line argument names a file rather than a built-in."""
    return any(sep in ref for sep in SEPARATORS) or ref.lower().endswith(suffixes)


def resolve(ref: str) -> tuple[str, str]:
    """(path, display name) for a built-in name or a path to a YAML or model file."""
    if is_path(ref, SUFFIXES + MODEL_SUFFIXES):
        return ref, ref
    names = builtin_names()
    if ref in names:
        path = os.path.join(builtin_dir(), f"{ref}.yaml")
        return path, os.path.basename(path)
    local = f" (to read the file '{shorten(ref)}' here, write './{shorten(ref)}')" if os.path.exists(ref) else ""
    raise UsageError(f"unknown architecture '{shorten(ref)}'{did_you_mean(ref, names)}{local}; built-ins:"
                     f" {', '.join(names)} (or give the path of a .yaml, .onnx, .keras or Keras .json file)")
