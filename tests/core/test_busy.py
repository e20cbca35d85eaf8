"""A rush beyond what the database keeps up with: a request that finds no free connection in time is
told to come back (503 with Retry-After), never "an unexpected error"."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shopcast.core.db import BUSY_RETRY_SECONDS, Database, create_engine
from shopcast.core.errors import Busy


async def test_a_transaction_that_finds_no_free_connection_is_refused_as_busy(database_url: str) -> None:
    database = Database(create_engine(database_url, pool_size=1, pool_timeout=0.2))
    try:
        async with database.transaction() as holding:
            await holding.execute(text("SELECT 1"))
            with pytest.raises(Busy) as refused:
                async with database.transaction() as waiting:
                    await waiting.execute(text("SELECT 1"))
        assert refused.value.status == 503 and refused.value.extra == {"retry_after": BUSY_RETRY_SECONDS}
        assert "try again" in refused.value.detail
        # The connection is back once the first transaction ends: the next one gets it.
        async with database.transaction() as later:
            assert (await later.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await database.close()
