"""The wheel ships every subpackage and data file (a non-editable install is what CI and
users get)."""

from __future__ import annotations

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "inception_cost").rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)
    assert "inception_cost.architectures" in listed


def test_one_version_string():
    import inception_cost

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "inception_cost.__version__"}
    assert inception_cost.__version__.count(".") == 2
    assert (ROOT / "inception_cost" / "py.typed").exists() and (ROOT / "LICENSE").exists()
