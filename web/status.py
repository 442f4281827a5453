"""The status page (``/status``) and its JSON twin (``GET /api/status``).

Both answer from one ``status_report`` (``sakuin.search.watching.status``) with
the same parameters, so the page's charts and tables show exactly the JSON's
numbers: ``runs`` (how many of the last runs), ``reason`` (repeatable: skip
codes) and ``path`` (a substring of the skipped files' paths).

The page, for people: what is indexed in a sentence, the live version, the
watchers in words, three charts drawn on the server (``web/charts.py``:
documents by type, by folder, and the index's size over the last runs), the runs
and every skipped file, filterable by reason and path. No JavaScript is needed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from sakuin.search.config import MAX_QUERY_CHARS, RUNS_KEPT
from sakuin.search.errors import BadParameter, message
from sakuin.search.indexing.inventory import HERE, OTHER
from sakuin.search.indexing.skips import SKIP_CODES
from sakuin.search.watching import status_report
from sakuin.search.watching.status import DEFAULT_RUNS
from sakuin.web import api
from sakuin.web.auth import current_access
from sakuin.web.charts import bar_chart, line_chart
from sakuin.web.common import engine, int_arg, text_arg
from sakuin.web.render import local_time

STATUS_KEY = "sakuin.status"

bp = Blueprint("status", __name__)

#: How the page names a file type (others: the suffix in capitals).
TYPE_LABELS = {
    "txt": "テキスト",
    "text": "テキスト",
    "none": "テキスト（拡張子なし）",
    "md": "Markdown",
    "markdown": "Markdown",
    "html": "HTML",
    "htm": "HTML",
    "jsonl": "JSONL",
    "ndjson": "JSONL",
}
TRIGGER_LABELS = {"index": "sakuin index", "watch": "監視", "optimize": "最適化"}
OUTCOME_LABELS = {"updated": "更新", "unchanged": "変更なし", "failed": "失敗", "interrupted": "中断"}
STATE_LABELS = {
    "idle": "待機中",
    "pending": "変更を検知（更新待ち）",
    "updating": "更新中",
    "waiting": "別の書き込みの終了待ち",
    "retrying": "更新に失敗（再試行待ち）",
    "stopped": "停止",
    "gone": "停止（異常終了）",
}


def store() -> Any:
    """The index's ``StatusStore`` (``sakuin.search.backend.open_status``), made with the app."""
    return current_app.extensions[STATUS_KEY]


def _params() -> dict[str, Any]:
    """``runs``, ``reason`` and ``path``, checked once for the page and the API alike."""
    # Stricter than the search parameters: the status page's form never sends an empty value
    # (its reasons are checkboxes, ``runs`` is sent only when it is not the default), so an
    # empty one is a mistake, said as one.
    reasons = request.args.getlist("reason")
    if any(r not in SKIP_CODES for r in reasons):
        raise BadParameter("bad_parameter/choice", name="reason", choices=SKIP_CODES)
    if request.args.get("runs") == "":
        raise BadParameter("bad_parameter", name="runs", low=0, high=RUNS_KEPT)
    return {
        "runs": int_arg("runs", DEFAULT_RUNS, 0, RUNS_KEPT),
        "reasons": reasons,
        "path": text_arg("path", MAX_QUERY_CHARS, required=False),
    }


def _restricted() -> bool:
    """Whether this request's reader may not read every document (``status_report``)."""
    access = current_access()
    return access is not None and not access.allows_all


def _query(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` as URL parameters (defaults left out)."""
    out: dict[str, Any] = {}
    if params["runs"] != DEFAULT_RUNS:
        out["runs"] = params["runs"]
    if params["reasons"]:
        out["reason"] = params["reasons"]
    if params["path"]:
        out["path"] = params["path"]
    return out


@api.bp.get("/status")
def api_status() -> Response:
    """``GET /api/status``: on the API's blueprint, beside ``/api/stats``."""
    params = _params()
    return jsonify(status_report(engine(), store(), **params, restricted=_restricted()))


@bp.get("/status")
def page() -> str:
    params = _params()
    data = status_report(engine(), store(), **params, restricted=_restricted())
    return render_template(
        "status.html",
        status=data,
        params=params,
        charts=charts(data),
        skip_labels={code: message(code).ja for code in SKIP_CODES},
        json_url=url_for("api.api_status", **_query(params)),
        default_runs=DEFAULT_RUNS,
        q="",
    )


# -- words and charts --------------------------------------------------------------------


def type_label(name: str) -> str:
    return TYPE_LABELS.get(name, name.upper())


def folder_label(name: str) -> str:
    return "（直下）" if name == HERE else "その他" if name == OTHER else name


def type_counts(stats: dict[str, Any]) -> list[tuple[str, int]]:
    """Documents per type as the page names them (txt and text are both テキスト), largest first."""
    merged: dict[str, int] = {}
    for name, n in stats.get("types", {}).items():
        label = type_label(name)
        merged[label] = merged.get(label, 0) + n
    return sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))


def folder_count(stats: dict[str, Any]) -> str:
    """How many folders, in words: ``9 フォルダ``, or ``30 を超えるフォルダ`` when the list was cut."""
    folders = stats.get("folders", {})
    shown = len([f for f in folders if f != OTHER])
    return f"{shown:,} を超えるフォルダ" if OTHER in folders else f"{shown:,} フォルダ"


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def _moment(iso: str) -> str:
    """A run's time on the size chart's axis: month-day hour:minute, local."""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%m-%d %H:%M")
    except ValueError:
        return iso


def charts(data: dict[str, Any]) -> dict[str, Any]:
    """The page's three charts and the rows of the size chart's table."""
    stats = data["index"] or {}
    types = type_counts(stats)
    folders = [(folder_label(name), n) for name, n in stats.get("folders", {}).items()]
    sized = [r for r in reversed(data["runs"]) if r.get("size_bytes") is not None and r["outcome"] != "failed"]
    points = [
        (
            _moment(r["started"]),
            float(r["size_bytes"]),
            f"{local_time(r['started'])}: {_size(r['size_bytes'])}, {r['documents']:,} 文書 ({r['version'] or '-'})",
        )
        for r in sized
    ]
    return {
        "types": bar_chart(types, title="種類別の文書数", chart_id="chart-types") if types else None,
        "folders": bar_chart(folders, title="フォルダ別の文書数", chart_id="chart-folders") if folders else None,
        "sizes": line_chart(points, title="実行ごとの索引の大きさ", fmt=_size, chart_id="chart-sizes")
        if points
        else None,
        "size_rows": [(r, _size(r["size_bytes"])) for r in sized],
    }


def init_app(app: Any) -> None:
    """The template helpers the home page and the status page share."""
    app.jinja_env.globals.update(
        type_counts=type_counts,
        folder_count=folder_count,
        folder_label=folder_label,
        type_label=type_label,
        trigger_label=lambda t: TRIGGER_LABELS.get(t, t),
        outcome_label=lambda o: OUTCOME_LABELS.get(o, o),
        state_label=lambda s: STATE_LABELS.get(s, s),
        size_label=_size,
    )


__all__ = ["STATUS_KEY", "bp", "charts", "folder_count", "init_app", "store", "type_counts"]
