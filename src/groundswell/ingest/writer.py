"""A single writer thread, so that parsing goes on while DuckDB commits a batch.

DuckDB releases the GIL while it writes, so the main thread keeps reading and feeding the
workers. Jobs run strictly in submission order; the queue is short, so memory stays flat.
An error in the writer is raised again in the main thread at the next call.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable

Job = Callable[[], Any]
_STOP = object()


class Writer:
    def __init__(self, depth: int = 1):
        self._jobs: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="groundswell-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not _STOP:
            if self._error is None:
                try:
                    job()
                except BaseException as exc:  # handed to the main thread
                    self._error = exc

    def submit(self, job: Job) -> None:
        self._raise_pending()
        self._jobs.put(job)

    def drain(self) -> None:
        """Wait until every submitted job has run, then raise any writer error."""
        done = threading.Event()
        self._jobs.put(done.set)
        done.wait()
        self._raise_pending()

    def close(self) -> None:
        """Finish what was submitted (a batch is never left half-written), then stop."""
        self._jobs.put(_STOP)
        self._thread.join()

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
