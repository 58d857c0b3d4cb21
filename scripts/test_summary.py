#!/usr/bin/env python3
"""The totals of scripts/test.sh: reads each suite's JUnit XML report (lit --xunit-xml-output,
ctest --output-junit, pytest --junitxml) and prints one row per suite (passed, failed, skipped,
wall time), then "N passed, N failed" as the last line. Exits 1 when anything failed.

Usage: test_summary.py NAME:XML:STATUS:SECONDS...
A suite whose command failed (STATUS != 0) with no failed test counted (it crashed, or wrote
no report) counts one failure. With CI=true a skipped test (a missing dependency, tool or
platform feature) counts as failed: CI must run every suite in full."""

import os
import sys
import xml.etree.ElementTree as ElementTree


def count(report: str) -> tuple[int, int, int]:
    """(passed, failed, skipped) over the <testcase> elements of a JUnit XML file."""
    passed = failed = skipped = 0
    for case in ElementTree.parse(report).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main(suites: list[str]) -> int:
    strict = os.environ.get("CI") == "true"
    rows, total_passed, total_failed = [], 0, 0
    for suite in suites:
        name, report, status, seconds = suite.rsplit(":", 3)
        try:
            passed, failed, skipped = count(report)
        except (OSError, ElementTree.ParseError):
            passed, failed, skipped = 0, 0, 0
        if int(status) != 0 and failed == 0:
            failed = 1
        rows.append((name, passed, failed, skipped, int(seconds)))
        total_passed += passed
        total_failed += failed + (skipped if strict else 0)
    print(f"{'suite':<18} {'passed':>7} {'failed':>7} {'skipped':>8} {'time':>7}")
    for name, passed, failed, skipped, seconds in rows:
        print(f"{name:<18} {passed:>7} {failed:>7} {skipped:>8} {seconds:>6}s")
    if strict and any(row[3] for row in rows):
        print("CI=true: skipped tests count as failed")
    print(f"{total_passed} passed, {total_failed} failed")
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
