"""What the calendar tests share: a family worker, and a family of theirs with a plan."""

import pytest

from tests.conftest import make_family, make_user


@pytest.fixture
def worker(app):
    return make_user("family_worker")


@pytest.fixture
def family(coordinator, worker):
    return make_family(coordinator, workers=[worker], plan=True)
