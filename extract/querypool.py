"""SPARQL queries run in worker processes that are killed when they pass the time limit.

pyoxigraph cannot cancel a running query from Python, so a time limit is only real if the
query runs where it can be stopped: in another process. A *loader* process (spawned, so it
starts with no threads) opens the store, copies it into memory (or, with `in_memory=False`,
only checks it), and then forks one *worker* per request slot on demand. A fork shares the
loaded store copy-on-write and is ready in about 10 ms, so a worker killed on timeout
(SIGKILL, which no query can ignore) is replaced at once, without loading anything again.

The server sends each worker a Job over a socket pair and waits at most `timeout` seconds
for the whole answer. A worker serialises its answer completely before sending it, so the
server either has the whole answer or none of it: a query stopped by the time limit is
answered with 503 and nothing else. A reload starts a new loader beside the old one and
switches to it once it is ready; workers of the old one finish their query and exit.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing as mp
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.reduction import recv_handle, send_handle
from pathlib import Path

import pyoxigraph as ox

from . import results
from .errors import InputError, StoreError

log = logging.getLogger(__name__)


@dataclass
class Job:
    """One query for a worker.

    kind "sparql": `query` is SPARQL text, run over the given dataset (default: the union
    of all graphs as the default graph). kind "named": `query` is a named query's name and
    `params` its (name, value) pairs, bound as RDF terms in the worker. kind "call": `query`
    is the name of a function registered with `worker_call` (a page of extract/pages.py),
    called in the worker with the store and `params`; it returns the whole Outcome.
    """

    kind: str
    query: str
    fmt: str  # a results.Format name, chosen by the server for the query's form ("" for a call)
    params: list[tuple[str, str]] = field(default_factory=list)
    default_graphs: list[str] | None = None
    named_graphs: list[str] | None = None


@dataclass
class Outcome:
    """A complete answer: HTTP status, media type, body and extra headers."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, message: str, **headers: str) -> Outcome:
    return Outcome(status, "text/plain; charset=utf-8", (message.rstrip("\n") + "\n").encode("utf-8"), headers)


@dataclass
class LoadInfo:
    """What a loader holds: shown when the server starts and after each reload."""

    path: str
    in_memory: bool
    documents: int
    triples: int | None
    seconds: float


# ------------------------------------------------------------------ in the worker

_CALLS: dict[str, Callable[..., Outcome]] = {}


def worker_call(name: str):
    """Register a function that a Job of kind "call" names; it runs in a worker.

    The function takes (ctx, store, params, max_rows): the loader's _Context (its `register`
    and `scheme_ids` bind parameters), the store to query, the Job's (name, value) pairs and
    the row cap; it returns an Outcome. Only registered names can be called, and only the
    server chooses them: a URL never names a function. A module holding such functions is
    named in QueryPool's `preload`, so the loader imports it (and what it imports) once, before
    it forks any worker.
    """
    def register(fn):
        _CALLS[name] = fn
        return fn
    return register


class _Context:
    """What every worker inherits from its loader: the store and the values that bind parameters."""

    def __init__(self, path: Path, in_memory: bool, preload: tuple[str, ...] = ()):
        from .queries import named_queries
        from .register import load_register
        from .store import Store

        self.path, self.in_memory = path, in_memory
        start = time.monotonic()
        named_queries()  # parsed once here, not in every worker
        for module in preload:  # the worker calls' modules, imported once here, not in every worker
            importlib.import_module(module)
        if in_memory:
            disk = Store(path, read_only=True)
            self.store = disk.snapshot()
            del disk  # the workers never touch RocksDB: they query the copy
            documents, triples = len(self.store.document_graphs()), len(self.store.ox)
            extra, self.scheme_ids = self.store.extra_registers(), self.store.scheme_ids()
        else:
            self.store, triples = None, None  # each worker opens its own handle after the fork
            documents, extra, self.scheme_ids = _probe(path)
        self.register = load_register(extra)
        self.info = LoadInfo(str(path), in_memory, documents, triples, time.monotonic() - start)

    def open(self):
        if self.store is None:
            from .store import Store

            self.store = Store(self.path, read_only=True)
        return self.store


def _probe(path: Path) -> tuple[int, list, dict]:
    """The number of documents, the extra registers and the scheme ids, read in a short-lived fork.

    With --from-disk each worker opens its own read-only RocksDB handle. The loader must
    not open one itself: RocksDB would start its background threads in the loader, and
    its forks would inherit a thread pool whose threads do not exist in them.
    """
    from rdflib import Graph

    from .store import Store

    ours, theirs = mp.get_context("fork").Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:
        status = 0
        try:
            ours.close()
            store = Store(path, read_only=True)
            theirs.send(("ok", len(store.document_graphs()),
                         [g.serialize(format="nt", encoding="utf-8") for g in store.extra_registers()],
                         store.scheme_ids()))
        except StoreError as err:
            theirs.send(("error", err.message))
        except BaseException:  # noqa: BLE001 -- a forked child must not unwind into the loader: print the bug, leave
            traceback.print_exc()
            status = 1
        finally:
            os._exit(status)
    theirs.close()
    try:
        answer = ours.recv()
    except EOFError:
        raise StoreError(f"{path}: the store could not be read (see the messages above)") from None
    if answer[0] == "error":
        raise StoreError(answer[1])
    return answer[1], [Graph().parse(data=nt, format="nt") for nt in answer[2]], answer[3]


def _run(ctx: _Context, job: Job, max_rows: int) -> Outcome:
    from .queries import bindings, named_queries

    store = ctx.open()
    start = time.monotonic()
    try:
        if job.kind == "call":
            if job.query not in _CALLS:
                return error(500, f"no worker call named '{job.query}' (is its module in the pool's preload?)")
            return _CALLS[job.query](ctx, store, list(job.params), max_rows)
        if job.kind == "named":
            nq = named_queries()[job.query]  # by name only: a URL never names a file
            subs = bindings(nq, list(job.params), ctx.register, ctx.scheme_ids)
            answer = store.query(nq.text, subs)
        else:
            options = {"use_default_graph_as_union": True}
            if job.default_graphs is not None or job.named_graphs is not None:
                options = {"default_graph": [ox.NamedNode(g) for g in job.default_graphs or []],
                           "named_graphs": [ox.NamedNode(g) for g in job.named_graphs or []]}
            answer = store.ox.query(job.query, **options)
        return _serialise(answer, job.fmt, max_rows, start)
    except SyntaxError as err:
        return error(400, f"query: not valid SPARQL ({err})")
    except InputError as err:
        return error(400, err.message)
    except StoreError as err:  # with --from-disk: the store cannot be opened any more
        return error(500, err.message)
    except ValueError as err:  # a dataset IRI pyoxigraph rejects
        return error(400, f"query: {err}")
    except OSError as err:  # reading the store, or evaluating the query, failed
        return error(500, f"query failed: {err}")


def _serialise(answer, fmt: str, max_rows: int, start: float) -> Outcome:
    headers = {}
    if isinstance(answer, ox.QueryBoolean):
        form = "ASK"
        body = results.write_boolean(answer, _fit(fmt, form))
    else:
        form = "SELECT" if isinstance(answer, ox.QuerySolutions) else "CONSTRUCT"
        items = []
        for item in answer:
            if len(items) == max_rows:  # one more than the cap: the answer is cut
                headers["X-Ofsted-KG-Truncated"] = "true"
                break
            items.append(item)
        else:
            headers["X-Ofsted-KG-Truncated"] = "false"
        headers["X-Ofsted-KG-Max-Rows"] = str(max_rows)
        headers["X-Ofsted-KG-Rows"] = str(len(items))
        if form == "SELECT":
            variables = [v.value for v in answer.variables]
            rows = [[solution[v] for v in variables] for solution in items]
            body = results.write_solutions(variables, rows, _fit(fmt, form))
        else:
            body = results.write_triples(items, _fit(fmt, form))
    fmt = results.format_named(_fit(fmt, form), form)
    headers["Server-Timing"] = f"query;dur={(time.monotonic() - start) * 1000:.1f}"
    return Outcome(200, fmt.content_type, body, headers)


def _fit(fmt: str, form: str) -> str:
    # the server chose the format from the query text; if the answer is of another form, use its default
    names = [f.name for f in results.formats_for(form)]
    return fmt if fmt in names else names[0]


def _worker(conn: Connection, ctx: _Context, max_rows: int) -> None:
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(_run(ctx, job, max_rows))


def _loader_main(ctrl: Connection, path: str, in_memory: bool, max_rows: int, preload: tuple[str, ...] = ()) -> None:
    """The loader process: load once, then fork a worker for each request for one."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the server decides
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # SIGHUP means "reload" to the server, never "stop" here
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped by the kernel
    try:
        ctx = _Context(Path(path), in_memory, preload)
    except StoreError as err:
        ctrl.send(("error", err.message))
        return
    ctrl.send(("ready", ctx.info))
    while True:
        try:
            request = ctrl.recv()
        except EOFError:
            return
        if request != "fork":
            return
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:  # the worker: never return into the loader's loop
            status = 0
            try:
                ctrl.close()
                ours.close()
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _worker(Connection(theirs.detach()), ctx, max_rows)
            except BaseException:  # noqa: BLE001 -- a forked child must not unwind into the loader: print the bug, leave
                traceback.print_exc()
                status = 1
            finally:
                os._exit(status)
        theirs.close()
        ctrl.send(pid)
        send_handle(ctrl, ours.fileno(), os.getppid())
        ours.close()


# ------------------------------------------------------------------ in the server

class _Retired(Exception):
    """The loader was replaced by a reload between choosing it and asking it for a worker."""


class _Worker:
    def __init__(self, pid: int, conn: Connection, loader: _Loader):
        self.pid, self.conn, self.loader = pid, conn, loader

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.conn.close()


class _Loader:
    """A loader process and its idle workers."""

    def __init__(self, path: Path, in_memory: bool, max_rows: int, preload: tuple[str, ...] = ()):
        ctx = mp.get_context("spawn")  # a fresh interpreter: no server threads to copy into the forks
        self._ctrl, theirs = ctx.Pipe()
        self._process = ctx.Process(target=_loader_main, args=(theirs, str(path), in_memory, max_rows, preload),
                                    name="ofsted-kg-loader", daemon=True)
        self._process.start()
        theirs.close()
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self.retired = False
        try:
            status, detail = self._ctrl.recv()
        except EOFError:
            self._process.join()
            raise StoreError(f"{path}: the loader process stopped (exit status {self._process.exitcode}) "
                             "before the store was loaded") from None
        if status == "error":
            self._process.join()
            raise StoreError(detail)
        self.info: LoadInfo = detail

    def take(self) -> _Worker:
        with self._lock:
            if self.retired:
                raise _Retired
            if self._idle:
                worker = self._idle.pop()
            else:
                self._ctrl.send("fork")
                pid = self._ctrl.recv()
                worker = _Worker(pid, Connection(recv_handle(self._ctrl)), self)
            self._busy.add(worker)
            return worker

    def give_back(self, worker: _Worker, alive: bool) -> None:
        with self._lock:
            self._busy.discard(worker)
            if alive and not self.retired:
                self._idle.append(worker)
                return
        worker.kill()

    def retire(self) -> None:
        """Stop the loader and the idle workers; busy ones are stopped when given back."""
        with self._lock:
            self.retired = True
            idle, self._idle = self._idle, []
            self._ctrl.close()  # the loader reads end-of-file and exits
        for worker in idle:
            worker.kill()
        self._process.join(timeout=5)

    def stop(self) -> None:
        """Stop everything now, busy workers too."""
        with self._lock:
            busy = list(self._busy)
        for worker in busy:
            worker.kill()
        self.retire()


class QueryPool:
    """At most `workers` queries at once, each stopped after `timeout` seconds, answers cut at `max_rows`."""

    def __init__(self, path: Path, *, in_memory: bool = True, workers: int = 2, timeout: float = 30.0,
                 max_rows: int = 100_000, preload: tuple[str, ...] = ()):
        self.path, self.in_memory = Path(path), in_memory
        self.workers, self.timeout, self.max_rows = workers, timeout, max_rows
        self.preload = tuple(preload)  # modules of worker calls (see worker_call)
        self._slots = threading.BoundedSemaphore(workers)
        self._loader: _Loader | None = None
        self._reload_lock = threading.Lock()

    def start(self) -> LoadInfo:
        """Load the store (in a loader process); returns what was loaded and how long it took."""
        self._loader = _Loader(self.path, self.in_memory, self.max_rows, self.preload)
        return self._loader.info

    @property
    def info(self) -> LoadInfo:
        return self._loader.info

    def reload(self) -> LoadInfo | None:
        """Load the store again beside the current copy and switch to it; None if one is already loading."""
        if not self._reload_lock.acquire(blocking=False):
            return None
        try:
            new = _Loader(self.path, self.in_memory, self.max_rows, self.preload)
            old, self._loader = self._loader, new
            old.retire()
            return new.info
        finally:
            self._reload_lock.release()

    def run(self, job: Job) -> Outcome:
        """Run a job in a worker; a complete answer, or an error status with a message."""
        if not self._slots.acquire(timeout=self.timeout):
            return error(503, f"all {self.workers} query workers stayed busy for {self.timeout:g} s; try again later",
                         **{"Retry-After": "5"})
        try:
            return self._run(job)
        finally:
            self._slots.release()

    def _take(self) -> _Worker | None:
        while True:
            try:
                return self._loader.take()
            except _Retired:  # a reload switched loaders meanwhile: ask the new one
                continue
            except (EOFError, OSError):  # the loader process is gone (killed from outside)
                log.error("the loader process of %s stopped; loading the store again", self.path)
                threading.Thread(target=self.reload, name="reload", daemon=True).start()
                return None

    def _run(self, job: Job) -> Outcome:
        for _ in range(self.workers + 1):  # at most `workers` idle ones can have died: then a fresh fork
            worker = self._take()
            if worker is None:
                return error(503, "the server is loading the store again; try again in a moment",
                             **{"Retry-After": "15"})
            try:
                worker.conn.send(job)
                break
            except OSError:  # an idle worker that died (killed from outside): try a fresh one
                worker.loader.give_back(worker, alive=False)
        else:
            return error(500, "no query worker could be started (see the server's log)")
        try:
            if not worker.conn.poll(self.timeout):
                worker.loader.give_back(worker, alive=False)  # killed, mid-query
                log.warning("query stopped at the time limit (%g s): %s", self.timeout, _head(job))
                return error(503, f"query stopped: it ran longer than the server's time limit of {self.timeout:g} s "
                                  "(no results were sent; narrow the query or ask the operator for a longer --timeout)",
                             **{"X-Ofsted-KG-Timeout": f"{self.timeout:g}"})
            outcome = worker.conn.recv()
        except (EOFError, OSError):
            worker.loader.give_back(worker, alive=False)
            log.error("a query worker died while running: %s", _head(job))
            return error(500, "the query worker stopped unexpectedly (see the server's log); no results were sent")
        worker.loader.give_back(worker, alive=True)
        if outcome.headers.get("X-Ofsted-KG-Truncated") == "true":
            log.warning("answer cut at %d rows (--max-rows): %s", self.max_rows, _head(job))
        return outcome

    def close(self) -> None:
        if self._loader is not None:
            self._loader.stop()
            self._loader = None


def _head(job: Job) -> str:
    text = job.query if job.kind == "named" else " ".join(job.query.split())
    return text[:120]
