"""Shipped test support: fakes' builders, contract suites and hypothesis strategies.

Vendor teams and adapter authors subclass the contract suites::

    from nexa_core.testing.contracts import OperationalStoreContract

    class TestMyStore(OperationalStoreContract):
        @pytest.fixture
        async def store(self):
            yield MyStore(...)

Provider plugins are certified with :mod:`nexa_core.testing.providers` (hotel, booking,
payment, transport and notification suites) the same way.
"""

from nexa_core.testing.builders import make_case, make_group, make_passenger, make_sub_case

__all__ = ["make_case", "make_group", "make_passenger", "make_sub_case"]
