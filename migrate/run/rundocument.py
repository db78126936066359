"""run.json: the record of what one run read, wrote and proved, which `migrate reconcile`, the
report and `migrate export` read back. Built here from the finished pipeline so that the wiring
(migrate.run.pipeline) stays about running the stages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from migrate import __version__
from migrate.layouts import Mapping
from migrate.read.fixed import file_sha256
from migrate.run.options import RunOptions, RunResult
from migrate.sinks.sql import safe_url
from migrate.transform.mapper import RUN_DATE, gaiji_replaced, supplied_columns


def run_document(pipeline: Any, result: RunResult, outputs: dict[str, Path], started: datetime,
                 seconds: float, *, trailer: dict[str, Any], figures: list[dict[str, Any]],
                 exceeded: bool, diagnosis: Any, digests: dict[Path, str] | None = None
                 ) -> dict[str, Any]:
    """The run.json document of a finished `Pipeline` (its options, reader, mapping, ledger and
    counters) and its result; `outputs` are the files in the staging folder, `digests` the
    SHA-256 of those a sink already read back whole (the CSV's recount)."""
    digests = digests or {}
    options, mapping, ledger = pipeline.options, pipeline.mapping, pipeline.ledger
    out = options.out_dir
    db_label = final_url(options, pipeline.db_url)
    document = {
        "tool": {"name": "migrate", "version": __version__},
        "status": "reconciled" if result.exit_code == 0 else "failed",
        "exit_code": result.exit_code,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
        "input": {"path": str(options.input), "bytes": pipeline.reader.file_size,
                  "sha256": pipeline.input_sha256, "records": pipeline.reader.n_records},
        "mapping": {"id": mapping.id, "version": mapping.version, "path": str(mapping.path),
                    "sha256": file_sha256(mapping.path)},
        "schema": {"id": pipeline.schema.id, "path": str(pipeline.schema.path),
                   "sha256": file_sha256(pipeline.schema.path)},
        "header": {k: (str(v) if v is not None else None) for k, v in pipeline.header.items()
                   if not k.endswith(".__error") and not k.startswith("__")},
        "run_date": str(pipeline.header[RUN_DATE]),
        "trailer": trailer,
        "supplied": supplied_columns(mapping, pipeline.defaults),
        "gaiji_replaced": gaiji_replaced(mapping, pipeline.gaiji),
        "trailer_figures": figures,
        "expected_values": expected_values(mapping, pipeline.unexpected_by_field),
        "framing": pipeline.framing.as_dict(),
        "database": {"url": safe_url(db_label)} if pipeline.db_url != "none" else None,
        "max_rejects": options.max_rejects,
        "max_reject_rate": options.max_reject_rate,
        "max_rejects_exceeded": exceeded,
        "verdict": diagnosis.as_dict() if diagnosis else None,
        "reconciliation": ledger.as_dict(),
        "outputs": {
            key: {"path": str(result.outputs[key]), "sha256": digests.get(path) or file_sha256(path),
                  "bytes": path.stat().st_size}
            if key != "database" or (options.private_db and path.parent == out)
            # a database others write too (another run's, or the plan's other areas):
            # verified by its content, not by a hash of the file
            else {"path": str(result.outputs[key])}
            for key, path in outputs.items()
        },
    }
    return document


def final_url(options: RunOptions, url: str) -> str:
    """The database URL as it will be once published (a SQLite file in the staging folder is
    named by its place in OUT)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return f"sqlite:///{options.final_path(path)}"
    return url


def expected_values(mapping: Mapping, unexpected_by_field: dict[str, int]
                    ) -> list[dict[str, Any]]:
    """Every `expect` of the mapping and how it fared (a header or trailer that differs has
    already stopped the run)."""
    trailer = mapping.trailer.all_fields() if mapping.trailer else {}
    out = []
    for role, specs in (("header", mapping.header_fields), ("trailer", trailer),
                        ("data", mapping.fields)):
        for name, spec in specs.items():
            if spec.expect is None:
                continue
            failed = unexpected_by_field.get(name, 0) if role == "data" else 0
            out.append({"record_type": role, "field": name, "expect": spec.expect,
                        "failed": failed, "ok": failed == 0})
    return out
