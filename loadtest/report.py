"""Summarise a locust run: per page p50/p95/p99, failures, throughput against the trivial page.

Exits non-zero if any request failed. Usage: report.py run_stats.csv run_failures.csv
"""

from __future__ import annotations

import argparse
import csv
import sys

TRIVIAL = "trivial: accessibility statement"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("stats")
    parser.add_argument("failures")
    parser.add_argument("--context", default="")
    args = parser.parse_args()
    rows = list(csv.DictReader(open(args.stats)))  # noqa: SIM115
    pages = {r["Name"]: r for r in rows if r["Type"] not in ("NOTE", "") and r["Name"] != "Aggregated"}
    total = next(r for r in rows if r["Name"] == "Aggregated")
    notes = {r["Name"]: int(r["Request Count"]) for r in rows if r["Type"] == "NOTE"}
    trivial_rps = float(pages[TRIVIAL]["Requests/s"]) if TRIVIAL in pages else 0.0
    trivial_p50 = float(pages[TRIVIAL]["50%"]) if TRIVIAL in pages else 0.0
    print(f"Load test: {args.context}")
    print()
    print("| page | requests | failures | req/s | p50 ms | p95 ms | p99 ms | throughput vs trivial |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in sorted(pages, key=lambda n: (n != TRIVIAL, n)):
        r = pages[name]
        count, failed = int(r["Request Count"]), int(r["Failure Count"])
        rps = float(r["Requests/s"])
        # Throughput a page would reach alone, relative to the trivial page: the ratio of
        # their service times (median), since both share the same server in the same run.
        ratio = trivial_p50 / float(r["50%"]) if float(r["50%"]) else 0.0
        # A pack's line is the officer's whole wait (ask, worker renders, download): the worker,
        # not the web server, sets its pace, so a throughput ratio would mean nothing.
        shown = "waits for the worker" if r["Type"] == "PACK" else f"{ratio:.2f}"
        print(
            f"| {name} | {count:,} | {failed} | {rps:.1f} | {r['50%']} | {r['95%']} | {r['99%']} | {shown} |"
        )
    failed = int(total["Failure Count"])
    print()
    print(
        f"All pages: {int(total['Request Count']):,} requests, {failed} failures, "
        f"{float(total['Requests/s']):.1f} req/s (trivial page alone in the mix: {trivial_rps:.1f} req/s)"
    )
    for name, count in notes.items():
        print(f"{name}: {count}")
    failures = list(csv.DictReader(open(args.failures)))  # noqa: SIM115
    for f in failures:
        print(f"FAILURE {f['Method']} {f['Name']}: {f['Error']} x{f['Occurrences']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
