"""Batch items on procrastinate, the PostgreSQL job queue (`FACTLINE_BATCH_QUEUE`): one job per item.

An item's job is deferred in the transaction that queues the item (`defer_item_jobs`, the batch
store's `on_queued`), through procrastinate's own SQL function: an item is never stored without its
job, nor a job deferred for an item that was not stored. The job claims its item by id and does what
factline's own workers do with it (`item_attempts`), so the item's status, lease and result line stay
where the API reads them, and the result is written once, by the item's current holder.

What goes wrong is procrastinate's to handle:
- a worker stopping (SIGTERM) aborts its running jobs at once: each hands its item back, and the
  retry strategy queues the job again;
- a worker that died (SIGKILL, a lost machine) stops its heartbeat; a periodic task, run by whichever
  worker is alive, retries the jobs of workers silent for longer than the lease, and a retried job
  (same id) takes back its item at once;
- while the circuit breaker holds LLM calls, the job hands its item back and is retried when the
  probe may run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta

from procrastinate import App, JobContext, PsycopgConnector, RetryDecision
from procrastinate.exceptions import ProcrastinateException
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from factline.batch_store import BatchStore, Describe
from factline.cache import CachingExtractor
from factline.errors import LLMCallWithdrawn, LLMCircuitOpen
from factline.item_attempts import to_completion
from factline.tables import utcnow
from factline.worker_lifecycle import Workers

logger = logging.getLogger("factline.batches")

QUEUE = "factline-items"
EXTRACT_ITEM = "factline.extract_item"
RETRY_STALLED = "factline.retry_stalled_items"

_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY("
    " SELECT ROW(:queue, :task, 0, NULL, NULL, jsonb_build_object('item_id', item_id), NULL)"
    "::procrastinate_job_to_defer_v1"
    " FROM unnest(CAST(:item_ids AS text[])) AS item_id))"
)


async def defer_item_jobs(session: AsyncSession, item_ids: Sequence[str]) -> None:
    """One `extract_item` job per queued item, in the session's transaction (workers hear of them by
    procrastinate's NOTIFY at commit)."""
    if item_ids:
        await session.execute(_DEFER, {"queue": QUEUE, "task": EXTRACT_ITEM, "item_ids": list(item_ids)})


def libpq_url(database_url: str) -> str:
    """procrastinate's driver (psycopg) reads the same database as SQLAlchemy's asyncpg, whose `ssl`
    option libpq calls `sslmode`."""
    url = make_url(database_url).set(drivername="postgresql")
    if "ssl" in url.query:
        url = url.difference_update_query(["ssl"]).update_query_dict({"sslmode": url.query["ssl"]})
    return url.render_as_string(hide_password=False)


class Postponed(Exception):
    """The item went back to the queue without an LLM call; its job runs again in `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"postponed for {seconds:g} s")
        self.seconds = seconds


class AgainWhenDue(BaseRetryStrategy):
    """Every job runs again until its item is done: a job that ended for good would leave its item
    queued, or held, with nothing left to take it. A postponed job runs when due; an aborted one (its
    worker stopping) at once, elsewhere. Anything else raised is not the item's fault (an item's own
    failures are recorded as its problem, not raised) but the database's or a bug: again later, backing
    off to 5 minutes."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision:
        if isinstance(exception, Postponed):
            return RetryDecision(retry_at=utcnow() + timedelta(seconds=exception.seconds))
        if isinstance(exception, asyncio.CancelledError):
            return RetryDecision()
        delay = min(300, 2**job.attempts)
        logger.error(
            "job %s for item %s failed; again in %d s",
            job.id,
            job.task_kwargs.get("item_id"),
            delay,
            exc_info=exception,
        )
        return RetryDecision(retry_at=utcnow() + timedelta(seconds=delay))


class ProcrastinateWorkers(Workers):
    def __init__(
        self,
        database_url: str,
        store: BatchStore,
        extractor: CachingExtractor,
        describe: Describe,
        *,
        concurrency: int,
        lease_seconds: float,
    ) -> None:
        super().__init__(store, extractor, describe, concurrency=concurrency, lease_seconds=lease_seconds)
        self._handed_back = 0
        self._running: asyncio.Task[None] | None = None
        # The pool: one connection listens for NOTIFY, the others fetch, finish and heartbeat.
        connector = PsycopgConnector(conninfo=libpq_url(database_url), min_size=1, max_size=self.jobs + 3)
        self.app = App(connector=connector)
        self.app.task(name=EXTRACT_ITEM, queue=QUEUE, pass_context=True, retry=AgainWhenDue())(
            self._extract_item
        )
        # Every few seconds (at most a third of the lease); one sweep queued at a time.
        every = max(1, min(30, int(lease_seconds / 3)))
        sweep = self.app.task(name=RETRY_STALLED, queue=QUEUE, queueing_lock=RETRY_STALLED)(
            self._retry_stalled
        )
        self.app.periodic(cron=f"* * * * * */{every}")(sweep)

    async def start(self) -> None:
        await self.app.open_async()
        self.hear_cancellations()
        self._running = asyncio.create_task(
            self.app.run_worker_async(
                queues=[QUEUE],
                name=self.process,
                concurrency=self.jobs,
                install_signal_handlers=False,  # the process's own handlers call `stop()`
                shutdown_graceful_timeout=0,  # hand items back now rather than finish them
                update_heartbeat_interval=self.lease_seconds / 3,
                stalled_worker_timeout=self.lease_seconds,
                delete_jobs="successful",
            ),
            name="procrastinate-worker",
        )

    def wake(self) -> None:
        """Nothing to do: procrastinate's NOTIFY at commit wakes the workers of every process."""

    async def stop(self) -> None:
        running, self._running = self._running, None
        if running is None:
            return
        running.cancel()  # procrastinate's worker then aborts its jobs and unregisters
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await self.app.close_async()
        await self.stop_hearing()
        if self._handed_back:
            logger.info("returned %d unfinished items to the queue", self._handed_back)

    async def _extract_item(self, context: JobContext, item_id: str) -> None:
        job_key = f"/job:{context.job.id}"
        owner = f"{self.process}{job_key}"
        item = await to_completion(self.store.claim_item(item_id, owner, job_key))
        if item is None:
            return  # finished, cancelled, or in the hands of a live job
        try:
            async with self.attempts.renewing(item, owner):
                extraction = await self.extract(item)
        except asyncio.CancelledError:
            await to_completion(self.store.release(item.id, owner, 0))
            self._handed_back += 1
            raise
        except LLMCallWithdrawn:
            return
        except Exception as error:
            pause = await to_completion(self.attempts.fail(item, owner, error))
            self._pause(pause)
            if isinstance(error, LLMCircuitOpen):
                raise Postponed(pause) from error
            return
        await to_completion(self.attempts.succeed(item, owner, extraction))

    async def _retry_stalled(self, timestamp: int) -> None:
        stalled = await self.app.job_manager.get_stalled_jobs(
            queue=QUEUE, task_name=EXTRACT_ITEM, seconds_since_heartbeat=self.lease_seconds
        )
        retried = 0
        for job in stalled:
            try:
                await self.app.job_manager.retry_job(job)
                retried += 1
            except ProcrastinateException:  # another sweep, or the worker itself, got there first
                continue
        if retried:
            logger.warning(
                "retried %d jobs of workers that stopped (no heartbeat for %g s)", retried, self.lease_seconds
            )
