"""Built-in architectures and how a name on the command line finds its file."""

from __future__ import annotations

from pathlib import Path

from inception_cost.errors import UsageError, did_you_mean

SUFFIXES = (".yaml", ".yml")


def builtin_dir() -> Path:
    """The YAML files: inside the installed package, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent.parent  # the package root
    installed = here / "architectures"
    if installed.is_dir() and any(installed.glob("*.yaml")):
        return installed
    return here.parent / "architectures"


def builtin_names() -> list:
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def load(ref: str, variant: str = "reduced"):
    """The layer graph of a built-in name or a YAML path (`variant`: see parse.load_network)."""
    from inception_cost.source.document import load_network

    path, display = resolve(ref)
    return load_network(path, display, variant=variant)


def resolve(ref: str) -> tuple:
    """(path, display name) for a built-in name or a path to a YAML file."""
    candidate = Path(ref)
    if candidate.suffix.lower() in SUFFIXES or candidate.exists() or "/" in ref or "\\" in ref:
        return candidate, ref
    path = builtin_dir() / f"{ref}.yaml"
    if path.is_file():
        return path, path.name
    names = builtin_names()
    raise UsageError(f"unknown architecture '{ref}'{did_you_mean(ref, names)}; built-ins:"
                     f" {', '.join(names)} (or give the path of a .yaml file)")
