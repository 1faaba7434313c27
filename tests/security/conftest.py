from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from kernel.clock import FixedClock
from tests.handlers.helpers import World, make_world


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> World:
    return make_world(engine, clock.now())
