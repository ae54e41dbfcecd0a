"""Worker threads running jobs, with the recovery sweep beside them: what ``gpfskit serve``
starts inside the server and what ``gpfskit worker`` runs on its own."""

from __future__ import annotations

import logging
import threading

from gpfskit.mgmt import resources as registry
from gpfskit.mgmt.jobs import capture, engine, recovery
from gpfskit.mgmt.settings import Settings

log = logging.getLogger(__name__)
SWEEP_SECONDS = 10.0


class Workers:
    def __init__(self, settings: Settings, threads: int) -> None:
        self.settings = settings
        self.threads = threads
        self._stop = threading.Event()
        self._consumer = None
        self._sweeper: threading.Thread | None = None

    def sweep(self) -> None:
        """Recover interrupted and lost jobs once, queueing again those that may run."""
        url = self.settings.database_url
        requeue = recovery.recover(url)
        requeue += recovery.requeue_lost(url, self.settings.job_pending_grace,
                                         lambda: engine.queued(self.settings))
        for job_id in requeue:
            engine.enqueue(self.settings, job_id)

    def _sweep_forever(self) -> None:
        while not self._stop.wait(SWEEP_SECONDS):
            try:
                self.sweep()
            except Exception:
                log.exception("the recovery sweep failed")

    def start(self) -> None:
        registry.load(self.settings.plugins)
        capture.install()
        self.sweep()
        self._consumer = engine.consumer(self.settings, self.threads)
        self._consumer.start()
        self._sweeper = threading.Thread(target=self._sweep_forever, name="job-recovery",
                                         daemon=True)
        self._sweeper.start()
        log.info("%d job worker thread(s) on the %s queue %r", self.threads,
                 self.settings.job_storage, self.settings.job_queue)

    def stop(self) -> None:
        self._stop.set()
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
        if self._sweeper is not None:
            self._sweeper.join()

    def wait(self) -> None:
        """Block until stopped (``gpfskit worker``)."""
        self._stop.wait()
