#!/usr/bin/env python3
"""The sweep's targets and their verdicts, as rows of bench/run.sh's final table.

Reads the summary that bench/sweep.py writes (--raw) and prints one Markdown row per
target: | measure | podmeta | ratio | floor | target | verdict |. The verdict is
"met", "not measured" (a count left out of the sweep), "NOT MET", or, for a rate or
p99 target, "missed, as is the floor" when the floor (bench/floor.rs, hyper and tokio
alone) misses the target too in the same rounds and podmeta is within TOLERANCE of it
on that measure: then what is left to gain is in the dependencies, not in our code.

Usage: verdicts.py SWEEP_JSON
"""

import json
import math
import sys

# How far behind the floor podmeta may be for a miss to count as the floor's.
TOLERANCE = 0.10


def ratio_row(summary, measure, count, key, target, ok, lower_is_better=False):
    """A target on podmeta's ratio to nginx (`rate_ratio` or `p99_ratio`)."""
    s = summary.get(str(count))
    if s is None:
        return f"| {measure} | | | | {target} | not measured |"
    # A sweep without the floor (sweep.py's --floor left out) has no figure for it.
    value, floor = s["podmeta"][key], s.get("floor", {}).get(key, math.nan)
    shown_floor = "" if math.isnan(floor) else f"{floor:.2f}"
    if math.isnan(value):
        # p99s are compared only in rounds without time-outs; with none, there is no figure.
        return f"| {measure} | | | {shown_floor} | {target} | NOT MET (no round without time-outs) |"
    if ok(value):
        verdict = "met"
    elif math.isnan(floor) or ok(floor):
        verdict = "NOT MET"
    else:
        # Both miss: the miss is the floor's if podmeta is close to it in the same rounds.
        against = s["podmeta_over_floor"][key]
        close = against <= 1 + TOLERANCE if lower_is_better else against >= 1 - TOLERANCE
        verdict = (f"missed, as is the floor (podmeta/floor {against:.2f})" if close
                   else f"NOT MET (podmeta/floor {against:.2f})")
    return f"| {measure} | | {value:.2f} | {shown_floor} | {target} | {verdict} |"


def plain_row(summary, measure, count, value_of, target, ok):
    """A target on podmeta's own figure, with the floor's beside it."""
    s = summary.get(str(count))
    if s is None:
        return f"| {measure} | | | | {target} | not measured |"

    def shown(value):
        return "/".join(map(str, value)) if isinstance(value, list) else f"{value:.1f}"

    value = value_of(s["podmeta"])
    verdict = "met" if ok(value) else "NOT MET"
    floor = shown(value_of(s["floor"])) if "floor" in s else ""
    return f"| {measure} | {shown(value)} | | {floor} | {target} | {verdict} |"


def rows(summary):
    out = []
    for count, rate_target in ((32, 1.0), (2000, 0.9)):
        aim = " (aim 1.1)" if count == 32 else ""
        out.append(ratio_row(summary, f"GET /pods/eu1 at {count:,} connections, rate against nginx",
                             count, "rate_ratio", f">= {rate_target}{aim}",
                             lambda v, t=rate_target: v >= t))
        out.append(ratio_row(summary, f"GET /pods/eu1 at {count:,} connections, p99 against nginx",
                             count, "p99_ratio", "<= 1.0", lambda v: v <= 1.0,
                             lower_is_better=True))
    for count, limit in ((4000, 12), (8000, 16)):
        out.append(plain_row(summary, f"memory per connection at {count:,} connections, KiB", count,
                             lambda s: s["kib_per_connection"], f"<= {limit}",
                             lambda v, limit=limit: v <= limit))
    for count in sorted(summary, key=int):
        out.append(plain_row(summary, f"errors/time-outs at {int(count):,} connections", count,
                             lambda s: [s["errors"], s["timeouts"]], "0/0", lambda v: v == [0, 0]))
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: verdicts.py SWEEP_JSON")
    with open(sys.argv[1]) as raw:
        print("\n".join(rows(json.load(raw)["summary"])))


if __name__ == "__main__":
    main()
