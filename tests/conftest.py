import signal

import pytest

from inception_cost.core import conventions
from inception_cost.core.analysis import analyse
from inception_cost.source.catalog import load
from inception_cost.source.document import parse_text


@pytest.fixture(autouse=True)
def _signals_as_they_were():
    """A test that runs the command line in this process installs its SIGINT/SIGTERM/SIGHUP
    handlers; put pytest's back, so that a timeout's SIGTERM still stops the run."""
    kept = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    yield
    for number, handler in kept.items():
        signal.signal(number, handler)


def net(text: str, train: bool = False, file: str = "test.yaml", convention: str = "torchvision"):
    """Analyse a network written inline in the graph form."""
    return analyse(parse_text(text, file), train=train, convention=conventions.get(convention))


def builtin(name: str, train: bool = False, convention: str = "torchvision"):
    """Analyse a built-in architecture, as the installed package ships it."""
    return analyse(load(name), train=train, convention=conventions.get(convention))


@pytest.fixture(scope="session")
def googlenet():
    return builtin("googlenet")


@pytest.fixture(scope="session")
def googlenet_train():
    return builtin("googlenet", train=True)
