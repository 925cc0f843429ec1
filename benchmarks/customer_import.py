"""Customer import benchmark: a generated CSV (fixed seed, one email and one phone per row, a few
attribute columns, ~0.5% bad rows) imported with `import_customers` on SQLite, then on
PostgreSQL when `FILROUGE_BENCH_DATABASE_URL` points at one (e.g. the `wt_import_bench`
database: its schema is dropped first). Each database is imported twice (the second run finds
every row unchanged), then the possible duplicates are scanned once in full and once more with
nothing new. Peak RSS is the process's (`ru_maxrss`), after each phase: it stays flat when
reading streams.

    make bench     # or: .venv/bin/python benchmarks/customer_import.py --rows 200000
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, func, select

from filrouge.core.actions.customer_import import ImportOptions, import_customers
from filrouge.core.actions.duplicates import refresh_suggestions
from filrouge.core.actions.users import ensure_workspace
from filrouge.core.audit import Actor
from filrouge.core.models import Customer
from filrouge.db import create_db_engine, make_session_factory, transaction
from filrouge.schema import migrate

FIRST = ["Jeanne", "Paul", "Marie", "Louis", "Camille", "Hugo", "Léa", "Élodie", "Noé", "Inès"]
LAST = ["Martin", "Bernard", "Dubois", "Durand", "Lefèvre", "Moreau", "Laurent", "Girard"]
CITIES = ["Lyon", "Paris", "Lille", "Nantes", "Rennes", "Bordeaux", "Marseille"]
DOMAINS = ["gmail.com", "orange.fr", "free.fr", "laposte.net", "example.fr"]
BAD_SHARE = 0.005


def write_csv(path: Path, rows: int, seed: int = 7) -> int:
    """Rows with one email and one phone each; ~0.5% bad (email, phone, field count)."""
    rng = random.Random(seed)
    bad = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "email", "phone", "city", "loyalty", "customer_since"])
        for n in range(rows):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            email = f"client{n}@{rng.choice(DOMAINS)}"
            digits = f"{n:08d}"
            phone = f"06 {digits[0:2]} {digits[2:4]} {digits[4:6]} {digits[6:8]}"
            row = [name, email, phone, rng.choice(CITIES), rng.choice(["or", "argent", ""]), "2021"]
            if rng.random() < BAD_SHARE:
                bad += 1
                row = _spoilt(row, rng)
            writer.writerow(row)
    return bad


def _spoilt(row: list[str], rng: random.Random) -> list[str]:
    match rng.randrange(3):
        case 0:
            row[1] = row[1].replace("@", " at ")
        case 1:
            row[2] = "12"
        case _:
            row.append("extra")
    return row


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(url: str) -> Engine:
    engine = create_db_engine(url)
    if engine.dialect.name != "sqlite":  # a database of its own: everything in it goes
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    migrate(engine)
    return engine


def run_import(engine: Engine, path: Path, label: str) -> None:
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        workspace_id = ensure_workspace(session, "Bench").id
    options = ImportOptions(region="FR", locale="en", actor=Actor.system())
    started, cpu = time.perf_counter(), cpu_seconds()
    report = import_customers(factory, workspace_id, path, options)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    print(
        f"BENCH import {label} rows={report.rows} created={report.created} "
        f"updated={report.updated} unchanged={report.unchanged} rejected={report.rejected} "
        f"seconds={seconds:.1f} rows/s={report.rows / seconds:,.0f} "
        f"rows_per_cpu_s={report.rows / cpu:,.0f} load={os.getloadavg()[0]:.1f} "
        f"peak_rss={peak_rss_mb():.0f}MB",
        flush=True,
    )


def run_scan(engine: Engine, label: str) -> None:
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        workspace_id = ensure_workspace(session, "Bench").id
        customers = session.scalar(select(func.count()).select_from(Customer))
    started = time.perf_counter()
    with transaction(factory) as session:
        report = refresh_suggestions(session, workspace_id)
    print(
        f"BENCH duplicates scan {label} customers={customers} new={report.new} "
        f"changed={report.counts.changed} identities_read={report.counts.identities_read} "
        f"seconds={time.perf_counter() - started:.1f} peak_rss={peak_rss_mb():.0f}MB",
        flush=True,
    )


def bench(url: str, path: Path, backend: str, scan: bool, again: bool = True) -> None:
    engine = prepare(url)
    try:
        run_import(engine, path, f"{backend} first")
        if again:
            run_import(engine, path, f"{backend} again")
        if scan:
            run_scan(engine, f"{backend} after import")
            run_scan(engine, f"{backend} nothing new")
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-scan", action="store_true", help="Import only.")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only.")
    parser.add_argument("--once", action="store_true", help="No second import of the file.")
    args = parser.parse_args()
    pg_url = os.environ.get("FILROUGE_BENCH_DATABASE_URL")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.csv"
        bad = write_csv(path, args.rows)
        print(
            f"# {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB, {bad} bad), "
            f"load average {load:.2f} on {os.cpu_count()} cores",
            flush=True,
        )
        if not args.no_sqlite:
            bench(f"sqlite:///{tmp}/bench.db", path, "sqlite", not args.no_scan, not args.once)
        if pg_url:
            bench(pg_url, path, "postgresql", not args.no_scan, not args.once)


if __name__ == "__main__":
    main()
