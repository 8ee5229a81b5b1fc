"""Test helper: run ``python -m geodata <args>`` in this process, pausing an upload inside its
transaction once enough rows are written, so that a test can kill the process right there.

Usage: ``python -m tests.pause_ingest <rows> <flag file> <geodata command line…>``. When the
upload has written at least ``rows`` rows (inside its transaction), the number written goes to
``flag file`` and the process sleeps until it is killed. Uploads never reaching ``rows`` (the
bundled incidents seeded when a store is opened) pass untouched. Test-only: production code
carries no pause hook; this wraps the store's own batch callback from the outside.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from geodata.cli import main
from geodata.store.base import BaseStore


def pausing_add_upload(rows: int, flag: Path):
    """``BaseStore.add_upload`` whose batch callback pauses once ``rows`` rows are written."""
    real = BaseStore.add_upload

    def add_upload(self, valid, meta, after_batch=None):
        def batch(done: int) -> None:
            if after_batch is not None:
                after_batch(done)
            if done >= rows:
                flag.write_text(str(done))
                time.sleep(3600)  # the test kills the process here, inside the transaction
        return real(self, valid, meta, batch)

    return add_upload


if __name__ == "__main__":
    BaseStore.add_upload = pausing_add_upload(int(sys.argv[1]), Path(sys.argv[2]))  # type: ignore[method-assign]
    sys.exit(main(sys.argv[3:]))
