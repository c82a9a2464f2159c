"""In-process coordination (``inprocess://``): the embedded, single-process default."""

from nexa_adapters.inprocess.coordination import (
    InProcessBreakers,
    InProcessCoordination,
    InProcessHolds,
    InProcessLocks,
    InProcessRateLimiter,
    bucket_shape,
)

__all__ = [
    "InProcessBreakers",
    "InProcessCoordination",
    "InProcessHolds",
    "InProcessLocks",
    "InProcessRateLimiter",
    "bucket_shape",
]
