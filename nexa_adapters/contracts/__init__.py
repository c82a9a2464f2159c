"""The ``direct`` plugin: direct hotel contracts from the operational store."""

from nexa_core.hotels import DirectContracts

__all__ = ["DirectContracts"]
