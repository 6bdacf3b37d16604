import pytest

from inception_cost.analysis import analyse
from inception_cost.catalog import builtin_dir
from inception_cost.parse import load_network, parse_text


def net(text: str, train: bool = False, file: str = "test.yaml"):
    """Analyse a network written inline in the graph form."""
    return analyse(parse_text(text, file), train=train)


@pytest.fixture(scope="session")
def googlenet():
    return analyse(load_network(builtin_dir() / "googlenet.yaml", "googlenet.yaml"))


@pytest.fixture(scope="session")
def googlenet_train():
    return analyse(load_network(builtin_dir() / "googlenet.yaml", "googlenet.yaml"), train=True)
