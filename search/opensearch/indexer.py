"""``sakuin index --backend URL``: the same incremental, atomic build, into a cluster.

The steps mirror the embedded indexer (``sakuin.search.embedded.writing.indexer``), which decides what
changed: files by content hash, JSONL records by record hash, the same
``IndexReport``. Then:

1. take the writer lock (a document created with ``op_type=create`` in the
   ``<name>-state`` index, renewed while the build runs; a second writer waits
   for it, or fails with ``--no-wait``; a lock whose writer was killed is taken
   over, see ``ClusterState.lock``);
2. create the next version's index (``<name>-v<generation>``) with the mapping
   of the current metadata declaration;
3. analyse the new and changed documents (worker processes, as for the embedded
   index) and bulk-index them;
4. copy every other live section from the current version, token streams and
   all, so unchanged text is never re-analysed (the sections of changed,
   removed and vanished documents are left behind);
5. refresh, check the section count, then point the alias at the new index in
   one ``_aliases`` call and save the manifest; the version before the previous
   one is deleted. A build that fails or is interrupted before step 5 leaves
   the live alias untouched (its half-written index is deleted on the way out,
   or by the next build).

A new metadata declaration or another user dictionary derives every section again
from its stored text instead of copying it in step 4. A user dictionary's CSV is
kept in the state index (``ClusterState.dictionary``) and compiled where it is
needed, into ``DICTIONARY_DIR``: here for the analysis, on a server for its queries.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from sakuin.search.analysis.sudachi import user_dictionaries
from sakuin.search.analysis.userdict import compiled
from sakuin.search.config import DEFAULT_REPLICAS, DEFAULT_SHARDS, dictionary_dir
from sakuin.search.documents.files import iter_input_files
from sakuin.search.documents.metadata import Declaration, FieldSurvey, Kind
from sakuin.search.errors import IndexBusy, IndexMissing
from sakuin.search.indexing.analysis import Settled, settle
from sakuin.search.indexing.changes import changes, file_key, pending_documents, previous
from sakuin.search.indexing.extraction import run_file_task
from sakuin.search.indexing.history import recorded
from sakuin.search.indexing.ids import jsonable
from sakuin.search.indexing.report import IndexReport, Progress
from sakuin.search.indexing.sections import SCHEMA_VERSION, task_info
from sakuin.search.indexing.tasks import Batch, DocTask, FileOutcome, FileTask, Task, batches
from sakuin.search.opensearch.client import connect, index_name
from sakuin.search.opensearch.documents import BATCH, mapping, section_documents
from sakuin.search.opensearch.status import ClusterStatusStore

#: How long a second writer waits for the lock before giving up.
LOCK_WAIT_SECONDS = 600


#: How often the lock's holder renews it, and how long a waiter watches an unchanged lock
#: before it counts as abandoned.
LOCK_RENEW_SECONDS = 10
LOCK_STALE_SECONDS = 60


def _abandoned(owner: dict[str, Any]) -> bool:
    """The lock names a process of this machine that is gone."""
    if owner.get("host") != socket.gethostname() or not isinstance(owner.get("pid"), int):
        return False
    try:
        os.kill(owner["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    return False


class _Lease:
    """A held writer lock, renewed by a daemon thread until released."""

    def __init__(self, client: Any, state: str, owner: dict[str, Any], seq_no: int, primary_term: int) -> None:
        self.client, self.state, self.owner = client, state, owner
        self.version = (seq_no, primary_term)
        self.stop = threading.Event()
        self.lost = False
        self.thread = threading.Thread(target=self._renew, name="sakuin-lock-lease", daemon=True)
        self.thread.start()

    def _renew(self) -> None:
        from opensearchpy.exceptions import ConflictError

        while not self.stop.wait(LOCK_RENEW_SECONDS):
            try:
                done = self.client.index(
                    index=self.state,
                    id="lock",
                    body={**self.owner, "renewed": time.time()},
                    if_seq_no=self.version[0],
                    if_primary_term=self.version[1],
                )
            except ConflictError:  # taken over: this writer stalled past LOCK_STALE_SECONDS
                self.lost = True
                return
            except Exception:  # a node down: retried at the next tick, well inside LOCK_STALE_SECONDS
                continue
            self.version = (done["_seq_no"], done["_primary_term"])

    def release(self) -> None:
        self.stop.set()
        self.thread.join()
        self.client.delete(
            index=self.state,
            id="lock",
            if_seq_no=self.version[0],
            if_primary_term=self.version[1],
            ignore=[404, 409],
            refresh=True,
        )


class ClusterState:
    """The alias, its versions, the manifest and the lock of one sakuin index on a cluster."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name
        self.state = f"{name}-state"
        self._lease: _Lease | None = None

    def manifest(self) -> dict[str, Any]:
        if not self.client.indices.exists(index=self.state):
            return {}
        found = self.client.get(index=self.state, id="manifest", ignore=[404])
        return found.get("_source", {}).get("manifest", {}) if found.get("found") else {}

    def dictionary(self, sha256: str) -> bytes | None:
        """The CSV of a user dictionary the index uses (None: not kept here)."""
        if not self.client.indices.exists(index=self.state):
            return None
        found = self.client.get(index=self.state, id=f"dictionary-{sha256}", ignore=[404])
        return found["_source"]["csv"].encode("utf-8") if found.get("found") else None

    def save_dictionary(self, sha256: str, data: bytes) -> None:
        """Keep a user dictionary's CSV with the index (its bytes are checked UTF-8 already)."""
        self.client.index(index=self.state, id=f"dictionary-{sha256}", body={"csv": data.decode("utf-8")}, refresh=True)

    def current(self) -> str | None:
        if not self.client.indices.exists_alias(name=self.name):
            return None
        return next(iter(self.client.indices.get_alias(name=self.name)), None)

    def ensure_state(self) -> None:
        if not self.client.indices.exists(index=self.state):
            self.client.indices.create(
                index=self.state,
                body={"settings": {"number_of_shards": 1}, "mappings": {"dynamic": False, "properties": {}}},
                ignore=[400],  # created by a concurrent writer
            )

    def lock(self, wait: bool) -> None:
        """Take the writer lock (module doc, step 1); a lock its writer left behind is taken over.

        The holder renews its lock document every ``LOCK_RENEW_SECONDS``. A waiter takes
        the lock over when the document names a process of this host that no longer
        exists (a killed ``sakuin index``), or when it has not changed for
        ``LOCK_STALE_SECONDS`` of the waiter's own clock (a writer on another machine
        that died: no clock skew between machines enters). The takeover deletes exactly
        the stale version (``if_seq_no``), so two waiters cannot both win.
        """
        from opensearchpy.exceptions import ConflictError

        self.ensure_state()
        owner = {"host": socket.gethostname(), "pid": os.getpid(), "since": time.time()}
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        seen: tuple[int, int] | None = None  # the holder's lock version, and since when (monotonic)
        seen_at = 0.0
        while True:
            try:
                done = self.client.index(index=self.state, id="lock", body=owner, op_type="create", refresh=True)
            except ConflictError:
                pass
            else:
                self._lease = _Lease(self.client, self.state, owner, done["_seq_no"], done["_primary_term"])
                return
            held = self.client.get(index=self.state, id="lock", ignore=[404])
            if not held.get("found"):
                continue  # released between the two requests: try again at once
            version = (held["_seq_no"], held["_primary_term"])
            if version != seen:
                seen, seen_at = version, time.monotonic()
            if _abandoned(held["_source"]) or time.monotonic() - seen_at > LOCK_STALE_SECONDS:
                self.client.delete(
                    index=self.state, id="lock", if_seq_no=version[0], if_primary_term=version[1], ignore=[404, 409]
                )
                continue
            if not wait or time.monotonic() > deadline:
                raise IndexBusy("index_busy/cluster", name=self.name, state=self.state) from None
            time.sleep(1)

    def unlock(self) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            lease.release()

    def publish(self, new: str, manifest: dict[str, Any]) -> None:
        if self._lease is not None and self._lease.lost:
            raise IndexBusy("index_busy/taken", name=self.name)
        old = self.current()
        actions: list[dict[str, Any]] = [{"add": {"index": new, "alias": self.name}}]
        if old is not None:
            actions.insert(0, {"remove": {"index": old, "alias": self.name}})
        self.client.indices.update_aliases(body={"actions": actions})
        # Serialised here: the client's serializer does not know the manifest's packed id lists.
        body = json.dumps({"manifest": manifest}, ensure_ascii=False, separators=(",", ":"), default=jsonable)
        self.client.index(index=self.state, id="manifest", body=body, refresh=True)
        keep = {new, old}
        for index in self.client.indices.get(index=f"{self.name}-v*"):
            if index not in keep:
                self.client.indices.delete(index=index, ignore=[404])


def _analyse(
    declaration: Declaration, dictionaries: tuple[str, ...], batch: Batch
) -> tuple[list[dict[str, Any]], list[FileOutcome]]:
    """A batch's cluster documents (files extracted first, in the worker) and its files' outcomes,
    analysed with the index's user dictionaries."""
    docs: list[dict[str, Any]] = []
    outcomes: list[FileOutcome] = []
    with user_dictionaries(dictionaries):
        for task in batch[0]:
            if isinstance(task, FileTask):
                extracted, outcome = run_file_task(task)
                outcomes.append(outcome)
            else:
                extracted = [task]
            for doc_task in extracted:
                docs.extend(section_documents(doc_task, declaration))
    return docs, outcomes


def _dictionaries(state: ClusterState, settled: Settled) -> tuple[str, ...]:
    """The index's user dictionaries kept with it (their CSV) and compiled here, in order."""
    out: list[str] = []
    for entry in settled.settings.user_dicts:
        data = settled.csv.get(entry.sha256)
        if data is not None:
            state.save_dictionary(entry.sha256, data)
        made = compiled(
            entry, dictionary_dir(), lambda e=entry, d=data: d if d is not None else state.dictionary(e.sha256)
        )
        if made is not None:
            out.append(str(made))
    return tuple(out)


class _Deletions:
    """What an update leaves behind when it copies the live version (a ``Deleter``)."""

    def __init__(self) -> None:
        self.sources: set[str] = set()
        self.records: set[tuple[str, str]] = set()
        self.count = 0

    def delete(self, **terms: str) -> int:
        if set(terms) == {"source"}:
            self.sources.add(terms["source"])
        else:
            self.records.add((terms["doc_id"], terms["source"]))
        return 0

    def keeps(self, section: dict[str, Any]) -> bool:
        return section["source"] not in self.sources and (section["doc_id"], section["source"]) not in self.records


def build_cluster_index(
    paths: list[Path],
    urls: str,
    *,
    rebuild: bool = False,
    procs: int | None = None,
    wait: bool = True,
    declare: Iterable[tuple[str, Kind]] = (),
    shards: int = DEFAULT_SHARDS,
    replicas: int = DEFAULT_REPLICAS,
    trigger: str = "index",
    synonyms: Sequence[str] | None = None,
    user_dicts: Sequence[str] | None = None,
) -> IndexReport:
    """Bring the cluster's sakuin index in line with ``paths`` and publish it (module doc); the run
    is recorded in the run history (``sakuin.search.indexing.history``) as started by ``trigger``."""

    started = time.perf_counter()
    client = connect(urls)
    state = ClusterState(client, index_name())
    report = IndexReport()
    inputs = list(iter_input_files(paths, skipped=report.skipped))
    roots = [file_key(p) for p in paths]
    state.lock(wait)
    new_index = None
    try:
        with recorded(ClusterStatusStore(urls, client), report, trigger, paths):
            live = state.manifest()
            current = state.current()
            declaration, old_files = previous(live if current else {}, declare, rebuild, report)
            settled = settle(live if current else {}, synonyms, user_dicts, report)
            if not old_files:
                current = None  # a rebuild (or a first build) copies nothing forward
            new_files, pending = changes(inputs, old_files, roots, report, everything=report.redeclared)
            if not (pending or report.removed) and report.up_to_date:
                report.suggestions = []
                _summarise(report, client, state, new_files)
                report.seconds = time.perf_counter() - started
                return report

            generation = int(live.get("generation", 0)) + 1
            new_index = f"{state.name}-v{generation:06d}"
            client.indices.delete(index=new_index, ignore=[404])  # left by an interrupted build
            client.indices.create(index=new_index, body=mapping(declaration, shards, replicas))
            # Every replica allocated before the first write: a node lost mid-build then has a
            # copy of each shard to promote, and the build rides through it (module doc).
            client.cluster.health(
                index=new_index, wait_for_status="green", params={"timeout": "120s"}, request_timeout=130
            )
            deletions = _Deletions()
            for key in old_files:
                if key not in new_files and key not in {p.key for p in pending if p.by_record}:
                    deletions.delete(source=key)
            survey = FieldSurvey()
            dictionaries = _dictionaries(state, settled)
            reading = pending_documents(pending, new_files, report, deletions, survey)
            workers = procs or os.cpu_count() or 1
            outcomes: list[FileOutcome] = []
            actions = _analysed_actions(reading.tasks(), workers, new_index, declaration, outcomes, dictionaries)
            report.sections_written += _bulk(client, actions)
            reading.finish(outcomes)
            if current is not None and not report.everything:
                report.sections_rewritten = _bulk(client, _copied(client, current, new_index, deletions))
            elif current is not None:  # a new declaration or dictionary: every section derived again from its text
                rederived = _rederived(client, current, deletions)
                _bulk(client, _analysed_actions(rederived, workers, new_index, declaration, None, dictionaries))
            client.indices.refresh(index=new_index)
            expected = sum(f["sections"] for f in new_files.values())
            actual = client.count(index=new_index)["count"]
            if actual != expected:
                raise RuntimeError(f"index check failed: {actual} sections written, {expected} expected; previous kept")
            manifest = {
                "schema_version": SCHEMA_VERSION,
                "files": new_files,
                "metadata": report.metadata,
                "analysis": settled.settings.to_manifest(),
                "generation": generation,
                "index": new_index,
                "published": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
            }
            state.publish(new_index, manifest)
            new_index = None
            report.suggestions = survey.suggestions(declaration)
            _summarise(report, client, state, new_files)
    finally:
        if new_index is not None:
            client.indices.delete(index=new_index, ignore=[404])
        state.unlock()
    report.seconds = time.perf_counter() - started
    return report


#: Statuses of a bulk item worth retrying: a shard being promoted or relocated, back-pressure.
RETRY_STATUSES = (429, 503)
RETRY_ROUNDS = 8


def _bulk(client: Any, actions: Iterable[dict[str, Any]]) -> int:
    """Index ``actions`` in bulk requests; items refused while a shard has no active primary
    (a node just died, its replica not yet promoted) are sent again, with growing pauses.
    Returns how many were indexed; raises RuntimeError naming the first error otherwise."""
    from opensearchpy import helpers

    done = 0
    pending: list[dict[str, Any]] = []

    def send(batch: Iterable[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        nonlocal done
        failed = []
        kept: dict[str, dict[str, Any]] = {}

        def remember() -> Iterator[dict[str, Any]]:
            for action in batch:
                kept[action["_id"]] = action
                yield action

        for ok, item in helpers.streaming_bulk(
            client, remember(), chunk_size=BATCH, raise_on_error=False, raise_on_exception=True, request_timeout=120
        ):
            result = item.get("index", {})
            action = kept.pop(result.get("_id"), None)
            if ok:
                done += 1
            elif action is not None:
                failed.append((action, result))
        return failed

    failed = send(actions)
    for round_ in range(RETRY_ROUNDS):
        retry = [a for a, r in failed if r.get("status") in RETRY_STATUSES]
        if not retry or len(retry) < len(failed):
            break
        time.sleep(min(30, 2**round_))
        failed = send(retry)
    pending = [r for _, r in failed]
    if pending:
        first = pending[0].get("error", {})
        raise RuntimeError(
            f"{len(pending)} sections could not be indexed ({first.get('type')}: {first.get('reason')}); "
            "the live index is unchanged"
        )
    return done


def optimize_cluster_index(urls: str, wait: bool = True) -> IndexReport:
    """``sakuin optimize --backend URL``: merge the live version's segments (deleted sections go)."""
    started = time.perf_counter()
    client = connect(urls)
    state = ClusterState(client, index_name())
    current = state.current()
    if current is None:
        raise IndexMissing("index_missing/cluster", urls=urls)
    report = IndexReport(optimized=True, version=current)
    state.lock(wait)
    try:
        with recorded(ClusterStatusStore(urls, client), report, "optimize", None):
            client.indices.forcemerge(index=current, max_num_segments=1, request_timeout=600)
            files = state.manifest().get("files", {})
            store = client.indices.stats(index=current, metric="store,docs")["_all"]["primaries"]
            report.documents = sum(len(f["doc_ids"]) for f in files.values())
            report.sections = store["docs"]["count"]
            report.size_bytes = store["store"]["size_in_bytes"]
    finally:
        state.unlock()
    report.seconds = time.perf_counter() - started
    return report


class OpenSearchIndexer:
    """The cluster's ``IndexBackend``: ``build_cluster_index`` and ``optimize_cluster_index``."""

    def __init__(self, urls: str, shards: int | None = None, replicas: int | None = None) -> None:
        self.urls = urls
        self.shards = DEFAULT_SHARDS if shards is None else shards
        self.replicas = DEFAULT_REPLICAS if replicas is None else replicas

    def build(
        self,
        paths: list[Path],
        *,
        rebuild: bool = False,
        procs: int | None = None,
        progress: Progress | None = None,
        wait: bool = True,
        declare: Iterable[tuple[str, Kind]] = (),
        trigger: str = "index",
        synonyms: Sequence[str] | None = None,
        user_dicts: Sequence[str] | None = None,
    ) -> IndexReport:
        """``progress`` is not reported: the cluster's bulk requests are the run's pace."""
        return build_cluster_index(
            paths,
            self.urls,
            rebuild=rebuild,
            procs=procs,
            wait=wait,
            declare=declare,
            shards=self.shards,
            replicas=self.replicas,
            trigger=trigger,
            synonyms=synonyms,
            user_dicts=user_dicts,
        )

    def optimize(self, *, procs: int | None = None, progress: Progress | None = None, wait: bool = True) -> IndexReport:
        return optimize_cluster_index(self.urls, wait=wait)


def _analysed_actions(
    tasks: Iterable[tuple[Task | None, int]],
    workers: int,
    index: str,
    declaration: Declaration,
    outcomes: list[FileOutcome] | None = None,
    dictionaries: tuple[str, ...] = (),
) -> Iterator[dict[str, Any]]:
    """Bulk actions for the sections of ``tasks``, analysed in batches (``sakuin.search.indexing.tasks.batches``)
    by ``workers`` processes, which also extract the files of ``FileTask``s; their outcomes are
    appended to ``outcomes``; ``dictionaries``: the compiled user dictionaries to analyse with."""
    analyse = partial(_analyse, declaration, dictionaries)
    found = outcomes if outcomes is not None else []
    if workers <= 1:
        for docs, done in map(analyse, batches(tasks)):
            found.extend(done)
            yield from ({"_index": index, "_id": d["key"], "_source": d} for d in docs)
        return
    with mp.get_context("fork").Pool(workers) as pool:
        for docs, done in pool.imap(analyse, batches(tasks)):
            found.extend(done)
            yield from ({"_index": index, "_id": d["key"], "_source": d} for d in docs)


def _scan(client: Any, index: str) -> Iterator[dict[str, Any]]:
    from opensearchpy import helpers

    yield from helpers.scan(client, index=index, query={"query": {"match_all": {}}}, size=BATCH, preserve_order=False)


def _copied(client: Any, source: str, target: str, deletions: _Deletions) -> Iterator[dict[str, Any]]:
    for hit in _scan(client, source):
        if deletions.keeps(hit["_source"]):
            yield {"_index": target, "_id": hit["_id"], "_source": hit["_source"]}


def _rederived(client: Any, source: str, deletions: _Deletions) -> Iterator[tuple[DocTask, int]]:
    """The live sections regrouped into document tasks (to re-derive their metadata)."""
    tasks: dict[tuple[str, str], DocTask] = {}
    infos: dict[tuple[str, str], dict[int, Any]] = {}
    for hit in _scan(client, source):
        s = hit["_source"]
        if not deletions.keeps(s):
            continue
        key = (s["doc_id"], s["source"])
        task = tasks.setdefault(key, DocTask(s["doc_id"], s["source"], s["path"], s["title"], s["meta"], []))
        task.sections.append((s["ordinal"], s["heading"], s["body"]))
        infos.setdefault(key, {})[s["ordinal"]] = s.get("info") or None
    for key, task in tasks.items():
        task.sections.sort()
        yield task._replace(info=task_info([infos[key][o] for o, _, _ in task.sections])), 0


def _summarise(report: IndexReport, client: Any, state: ClusterState, files: dict[str, Any]) -> None:
    report.documents = sum(len(f["doc_ids"]) for f in files.values())
    report.sections = sum(f["sections"] for f in files.values())
    report.version = state.current()
    if report.version:
        stats = client.indices.stats(index=report.version, metric="store")
        report.size_bytes = stats["_all"]["primaries"]["store"]["size_in_bytes"]


__all__ = [
    "DEFAULT_REPLICAS",
    "DEFAULT_SHARDS",
    "ClusterState",
    "OpenSearchIndexer",
    "build_cluster_index",
    "optimize_cluster_index",
]
