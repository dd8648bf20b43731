"""The sync engine: read HubSpot into the mirror, evaluate the program, push minimal patches.

``SyncEngine`` (``sync.engine.engine``) is the facade; ``RunReport``, ``SyncBusy`` and
``SyncError`` are what its runs give and raise; ``InitReport`` is what ``init_portal`` gives.
"""

from sync.engine.engine import SyncEngine
from sync.engine.forward import ClockWentBack
from sync.engine.outcome import Reader, ReadOutcome
from sync.engine.report import RunReport, SyncBusy, SyncError, WriteFailure
from sync.engine.setup import InitReport

__all__ = [
    "ClockWentBack",
    "InitReport",
    "ReadOutcome",
    "Reader",
    "RunReport",
    "SyncBusy",
    "SyncEngine",
    "SyncError",
    "WriteFailure",
]
