"""Contract-suite fixtures (a throw-away PostgreSQL database for the DBOS engine)."""

from tests.saga.conftest import postgres_database

__all__ = ["postgres_database"]
