"""Shared fixtures: the datasets are built once per session from training/node_modules if missing."""

import pytest
import torch

from training import data


@pytest.fixture(scope="session", autouse=True)
def _threads():
    torch.set_num_threads(1)  # the suite shares the machine with training runs


@pytest.fixture(scope="session")
def mnist():
    data.build_all()
    return data.load_mnist()


@pytest.fixture(scope="session")
def emoji():
    data.build_all()
    return data.load_emoji()
