"""Email parsing benchmark: ``parse_email`` alone on the shared real-world mails.

Every file under ../shared/data/email except the crisp-* folders (bodies, not whole mails) is
parsed once per run, after a warm-up run; prints the mean and p99 time per mail over the runs
and the throughput in MB of raw mail per second. Files that are not mails (``EmailUnreadable``)
count too: the parser has to find that out. Each mail's HTML is read (``ParsedEmail.html``), so
sanitised, as it always was here (the parser leaves that to whoever reads it: the pipeline
sanitises once, when it stores the mail).

    make bench            # or: .venv/bin/python benchmarks/mail_parse.py --runs 3
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

from filrouge.channels.email.parse import EmailUnreadable, parse_email

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "email"


def fixture_mails() -> list[bytes]:
    if not SHARED.exists():
        sys.exit(f"{SHARED} is absent: this benchmark parses the shared real-world mails")
    files = sorted(
        p
        for p in SHARED.rglob("*")
        if p.is_file() and not p.relative_to(SHARED).parts[0].startswith("crisp-")
    )
    return [p.read_bytes() for p in files]


def parse_all(mails: list[bytes]) -> list[float]:
    times = []
    for raw in mails:
        start = time.perf_counter()
        with contextlib.suppress(EmailUnreadable):
            _ = parse_email(raw).html
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    mails = fixture_mails()
    parse_all(mails)  # warm-up: imports, codec lookups, regex caches
    runs = [parse_all(mails) for _ in range(args.runs)]
    times = sorted(t for run in runs for t in run)
    mean_ms = statistics.mean(sum(run) / len(run) for run in runs) * 1000
    p99_ms = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
    megabytes = sum(len(raw) for raw in mails) * len(runs) / 1e6
    print(
        f"BENCH email_parse mails={len(mails)} mean_ms={mean_ms:.2f} p99_ms={p99_ms:.2f} "
        f"mb_per_s={megabytes / sum(times):.2f}"
    )


if __name__ == "__main__":
    main()
