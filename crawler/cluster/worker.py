"""``yibao worker``: take crawl jobs from Redis and run each as a crawl subprocess, ``jobs`` at a time.

A job is one crawl of one portal (``messages.Job``, queued by the scheduler). The worker takes it from
``yibao:jobs``, takes over the portal's lock (``yibao:lock:<portal>``, set by the scheduler; a job whose lock
another job holds is dropped as superseded), announces the run (``open`` on the stream: the writer opens the
``runs`` row) and starts ``scrapy crawl <portal>`` with ``crawler.cluster.settings``. While the crawl runs the
worker refreshes the lock every ``HEARTBEAT_SECONDS``; a worker killed with everything it runs lets the lock
expire after ``LOCK_TTL`` seconds, and the writer closes the run as interrupted (the next run of the portal
resumes it, as after a local crawl killed mid-way).

A crawl that ends without having sent its close (killed, crashed, stopped at the wall-clock limit) is closed by
the worker for it: finish reason ``time_limit`` at the limit, ``interrupted`` when the worker was stopped, else
``exit N``. The time limit and the stop are handled as ``ops.jobs`` handles a local crawl: SIGTERM (Scrapy closes
cleanly, its close is sent), then SIGKILL after ``KILL_AFTER`` seconds. The crawl dies with the worker (Linux:
PR_SET_PDEATHSIG), so a kill -9 of the worker leaves no crawl behind.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from core.health import INTERRUPTED
from crawler.launcher import CrawlProcess, signal_group, start_crawl, warm_up
from crawler.registry import Config, ConfigError

from . import messages

log = logging.getLogger("yibao.worker")
KILL_AFTER = 30.0  # seconds between SIGTERM and SIGKILL of a crawl past its limit or at a stop
TIME_LIMIT = "time_limit"  # storage.baselines.FINISH_TIME_LIMIT
# the lock is this job's (or nobody's): take it and start the TTL; another job's lock is left alone
_TAKE = """
local owner = redis.call('get', KEYS[1])
if owner == false or owner == ARGV[1] then
  redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""
_REFRESH = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
@dataclass
class Running:
    job: messages.Job
    proc: CrawlProcess
    deadline: float
    terminated_at: float | None = None
    timed_out: bool = False
    stopped: bool = False


@dataclass
class Worker:
    client: redis.Redis
    redis_url: str
    config: Config
    config_path: str | None
    jobs: int = 1
    log_level: str = "INFO"
    lock_ttl: int = messages.LOCK_TTL  # seconds a job's lock outlives the worker's last heartbeat
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    running: dict[str, Running] = field(default_factory=dict)
    done: int = 0

    def run(self, stop: threading.Event, *, max_jobs: int | None = None) -> int:
        """Take and run jobs until ``stop`` is set (then the running crawls are stopped cleanly) or, with
        ``max_jobs``, until that many have run and the queue is empty. Returns how many jobs ran."""
        warm_up(wait=True)  # the crawl server's imports, before a job is taken (a start must not stall heartbeats)
        last_beat = 0.0
        while True:
            self.reap()
            now = time.monotonic()
            if now - last_beat >= min(messages.HEARTBEAT_SECONDS, self.lock_ttl / 3):
                self.heartbeat()
                last_beat = now
            self.enforce_limits(stopping=stop.is_set())
            if stop.is_set() or (max_jobs is not None and self.done + len(self.running) >= max_jobs):
                if not self.running:
                    return self.done
                time.sleep(0.2)
                continue
            if len(self.running) >= self.jobs:
                time.sleep(0.2)
                continue
            taken: Any = self.client.brpop([messages.JOBS], timeout=1)
            if taken is not None:
                self.start(taken[1])

    # -- one job -----------------------------------------------------------------------------------------------

    def send(self, kind: str, job: messages.Job, data: dict[str, Any]) -> None:
        self.client.xadd(messages.STREAM, messages.encode(kind, job.id, data))  # type: ignore[arg-type]

    def start(self, raw: bytes) -> None:
        try:
            job = messages.Job.loads(raw)
        except messages.MessageError as exc:
            log.error("dropped a queued job: %s", exc)
            return
        if not self.client.eval(_TAKE, 1, messages.lock_key(job.portal), job.id, self.lock_ttl):
            log.info("job %s of %s dropped: another job of the portal holds it", job.id, job.portal)
            return
        opened = {"portal": job.portal, "started_at": datetime.now(UTC).isoformat(), "full": job.full,
                  "worker": self.name}  # fmt: skip
        self.send(messages.OPEN, job, opened)
        problem = self.cannot_start(job)
        if problem:
            log.error("%s: %s", job.portal, problem)
            self.send(messages.CLOSE, job, {"portal": job.portal, "reason": problem, "stats": None})
            self.done += 1
            return
        env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.cluster.settings", "YIBAO_REDIS_URL": self.redis_url}
        proc = start_crawl(self.arguments(job), env=env)
        self.running[job.id] = Running(job, proc, time.monotonic() + job.time_limit)
        log.info("job %s: crawling %s (pid %d)", job.id, job.portal, proc.pid)

    def cannot_start(self, job: messages.Job) -> str | None:
        try:
            self.config.get(job.portal)
        except ConfigError as exc:
            return f"not crawlable on this worker: {exc}"
        if not self.client.exists(messages.state_key(job.id)):
            return "no crawl state for the job (expired before a worker took it)"
        return None

    def arguments(self, job: messages.Job) -> list[str]:
        """``scrapy`` arguments of the job's crawl (``crawler.launcher`` starts it warm or cold)."""
        fmt = f"%(asctime)s [{job.portal}] %(name)s %(levelname)s: %(message)s"
        cmd = ["crawl", job.portal, "-s", f"YIBAO_CLUSTER_JOB={job.id}", "-s", f"LOG_LEVEL={self.log_level}",
               "-s", f"LOG_FORMAT={fmt}"]  # fmt: skip
        if self.config_path:
            cmd += ["-s", f"YIBAO_CONFIG={Path(self.config_path).resolve()}"]
        if job.full:
            cmd += ["-s", "YIBAO_FULL=True"]
        for key, value in job.settings.items():
            cmd += ["-s", f"{key}={value}"]
        return cmd

    # -- while they run ----------------------------------------------------------------------------------------

    def heartbeat(self) -> None:
        for entry in self.running.values():
            self.client.eval(_REFRESH, 1, messages.lock_key(entry.job.portal), entry.job.id, self.lock_ttl)

    def enforce_limits(self, *, stopping: bool) -> None:
        now = time.monotonic()
        for entry in self.running.values():
            if entry.terminated_at is None and (stopping or now >= entry.deadline):
                entry.timed_out, entry.stopped = not stopping, stopping
                entry.terminated_at = now
                signal_group(entry.proc, signal.SIGTERM)
            elif entry.terminated_at is not None and now - entry.terminated_at >= KILL_AFTER:
                signal_group(entry.proc, signal.SIGKILL)

    def reap(self) -> None:
        for job_id, entry in list(self.running.items()):
            code = entry.proc.poll()
            if code is None:
                continue
            del self.running[job_id]
            self.done += 1
            if self.client.exists(messages.closed_key(job_id)):
                continue  # the crawl sent its close
            reason = TIME_LIMIT if entry.timed_out else INTERRUPTED if entry.stopped else f"exit {code}"
            log.warning("job %s (%s) ended without its close: %s", job_id, entry.job.portal, reason)
            self.send(messages.CLOSE, entry.job, {"portal": entry.job.portal, "reason": reason, "stats": None})
