#!/usr/bin/env python3
"""bench/verdicts.py's verdicts on made-up sweep summaries, and on summaries that
bench/sweep.py makes of made-up runs. Run: python3 bench/test_verdicts.py"""

import copy
import json
import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweep as sweep_script  # noqa: E402
import verdicts  # noqa: E402


def figures(rate, p99, kib=11.2, errors=0, timeouts=0):
    return {"rate_ratio": rate, "p99_ratio": p99, "kib_per_connection": kib,
            "errors": errors, "timeouts": timeouts}


def sweep(**overrides):
    """A summary in which podmeta meets every target and the floor is a little ahead."""
    summary = {
        str(count): {
            "podmeta": figures(1.1, 0.8),
            "floor": figures(1.2, 0.9, kib=16.0),
            "podmeta_over_floor": {"rate_ratio": 0.92, "p99_ratio": 0.9},
        }
        for count in (32, 1000, 2000, 4000, 8000)
    }
    for path, value in overrides.items():
        count, who, key = path.split("__")
        summary[count.lstrip("c")][who][key] = value
    return summary


def verdict(summary, measure):
    """The verdict cell of the row whose measure starts with `measure`."""
    [row] = [r for r in verdicts.rows(summary) if r.startswith(f"| {measure}")]
    return row.rstrip(" |").rsplit("| ", 1)[1]


RATE_32 = "GET /pods/eu1 at 32 connections, rate"
P99_2000 = "GET /pods/eu1 at 2,000 connections, p99"


class Verdicts(unittest.TestCase):
    def test_a_sweep_within_every_target_meets_them_all(self):
        rows = verdicts.rows(sweep())
        self.assertEqual(len(rows), 4 + 2 + 5)
        for row in rows:
            self.assertTrue(row.endswith("| met |"), row)

    def test_a_target_exactly_reached_is_met(self):
        summary = sweep(c32__podmeta__rate_ratio=1.0, c2000__podmeta__p99_ratio=1.0)
        self.assertEqual(verdict(summary, RATE_32), "met")
        self.assertEqual(verdict(summary, P99_2000), "met")

    def test_a_miss_the_floor_meets_is_ours(self):
        summary = sweep(c32__podmeta__rate_ratio=0.93)
        self.assertEqual(verdict(summary, RATE_32), "NOT MET")

    def test_a_miss_the_floor_shares_with_podmeta_close_to_it_is_the_floors(self):
        summary = sweep(c32__podmeta__rate_ratio=0.93, c32__floor__rate_ratio=0.97,
                        c32__podmeta_over_floor__rate_ratio=0.95)
        self.assertEqual(verdict(summary, RATE_32), "missed, as is the floor (podmeta/floor 0.95)")
        summary = sweep(c2000__podmeta__p99_ratio=1.2, c2000__floor__p99_ratio=1.15,
                        c2000__podmeta_over_floor__p99_ratio=1.08)
        self.assertEqual(verdict(summary, P99_2000), "missed, as is the floor (podmeta/floor 1.08)")

    def test_a_shared_miss_with_podmeta_well_behind_the_floor_is_ours(self):
        summary = sweep(c32__podmeta__rate_ratio=0.8, c32__floor__rate_ratio=0.97,
                        c32__podmeta_over_floor__rate_ratio=0.85)
        self.assertEqual(verdict(summary, RATE_32), "NOT MET (podmeta/floor 0.85)")
        summary = sweep(c2000__podmeta__p99_ratio=1.4, c2000__floor__p99_ratio=1.1,
                        c2000__podmeta_over_floor__p99_ratio=1.25)
        self.assertEqual(verdict(summary, P99_2000), "NOT MET (podmeta/floor 1.25)")

    def test_a_p99_with_no_round_free_of_time_outs_is_not_met(self):
        summary = sweep(c2000__podmeta__p99_ratio=math.nan)
        self.assertEqual(verdict(summary, P99_2000), "NOT MET (no round without time-outs)")
        # Nor does a floor without a figure excuse a miss.
        summary = sweep(c2000__podmeta__p99_ratio=1.2, c2000__floor__p99_ratio=math.nan)
        self.assertEqual(verdict(summary, P99_2000), "NOT MET")

    def test_memory_errors_and_time_outs_are_podmetas_own(self):
        summary = sweep(c4000__podmeta__kib_per_connection=12.5,
                        c8000__floor__kib_per_connection=30.0,
                        c1000__podmeta__timeouts=3)
        self.assertEqual(verdict(summary, "memory per connection at 4,000"), "NOT MET")
        self.assertEqual(verdict(summary, "memory per connection at 8,000"), "met")
        self.assertEqual(verdict(summary, "errors/time-outs at 1,000"), "NOT MET")
        self.assertIn("| 0/3 |", [r for r in verdicts.rows(summary) if "at 1,000" in r][0])

    def test_without_the_floor_a_miss_is_ours(self):
        summary = sweep(c32__podmeta__rate_ratio=0.93, c32__floor__rate_ratio=0.9,
                        c32__podmeta_over_floor__rate_ratio=1.03)
        for figures in summary.values():
            del figures["floor"], figures["podmeta_over_floor"]
        self.assertEqual(verdict(summary, RATE_32), "NOT MET")
        self.assertEqual(verdict(summary, P99_2000), "met")
        [row] = [r for r in verdicts.rows(summary) if "at 4,000 connections, KiB" in r]
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        self.assertEqual(cells[1:], ["11.2", "", "", "<= 12", "met"])

    def test_a_count_left_out_is_not_measured(self):
        summary = copy.deepcopy(sweep())
        del summary["2000"], summary["8000"]
        self.assertEqual(verdict(summary, P99_2000), "not measured")
        self.assertEqual(verdict(summary, "memory per connection at 8,000"), "not measured")
        self.assertFalse(any("errors/time-outs at 2,000" in r for r in verdicts.rows(summary)))


def run(rps, p99_ms, rss_kib, timeouts=0):
    return {"rps": rps, "p99_ms": p99_ms, "errors": 0, "timeouts": timeouts, "rss_kib": rss_kib}


class SweepSummaries(unittest.TestCase):
    """sweep.py's summary is what verdicts.py reads: made-up runs, through JSON as
    run.sh passes them."""

    def summary(self, runs, baseline):
        summary, _ = sweep_script.summarize(runs, baseline, [32, 2000])
        return json.loads(json.dumps(summary))

    def test_every_server_goes_first_once_in_three_rounds(self):
        names = ["podmeta", "floor", "nginx"]
        firsts = [sweep_script.rotation(names, r)[0] for r in (1, 2, 3)]
        self.assertEqual(firsts, names)
        self.assertEqual(sorted(sweep_script.rotation(names, 2)), sorted(names))

    def test_medians_of_round_ratios_and_the_verdicts_they_give(self):
        baseline = {"podmeta": 8000, "floor": 4000, "nginx": 16000}
        runs = {
            # 32: podmeta 1.1x nginx in every round. 2,000: 0.85x, the floor 0.88x.
            "podmeta": {32: [run(110, 2, 8100)] * 3,
                        2000: [run(85, 50, 8000 + 2000 * 11)] * 3},
            "floor": {32: [run(120, 3, 4000)] * 3,
                      2000: [run(88, 48, 4000 + 2000 * 10)] * 3},
            "nginx": {32: [run(100, 4, 16000)] * 3,
                      # A round with time-outs has no p99 to compare.
                      2000: [run(100, 52, 17000), run(100, 5, 17000, timeouts=5),
                             run(100, 60, 17000)]},
        }
        summary = self.summary(runs, baseline)
        podmeta = summary["2000"]["podmeta"]
        self.assertAlmostEqual(podmeta["rate_ratio"], 0.85)
        self.assertAlmostEqual(podmeta["p99_ratio"], (50 / 52 + 50 / 60) / 2)
        self.assertAlmostEqual(podmeta["kib_per_connection"], 11.0)
        self.assertEqual(summary["2000"]["nginx"]["timeouts"], 5)
        self.assertAlmostEqual(summary["2000"]["podmeta_over_floor"]["rate_ratio"], 85 / 88)
        self.assertEqual(verdict(summary, RATE_32), "met")
        self.assertEqual(verdict(summary, "GET /pods/eu1 at 2,000 connections, rate"),
                         "missed, as is the floor (podmeta/floor 0.97)")
        self.assertEqual(verdict(summary, P99_2000), "met")

    def test_a_sweep_without_the_floor_has_plain_verdicts(self):
        runs = {"podmeta": {32: [run(90, 2, 8000)] * 3, 2000: [run(95, 60, 8000)] * 3},
                "nginx": {32: [run(100, 4, 16000)] * 3, 2000: [run(100, 52, 16000)] * 3}}
        summary = self.summary(runs, {"podmeta": 8000, "nginx": 16000})
        self.assertNotIn("podmeta_over_floor", summary["32"])
        self.assertEqual(verdict(summary, RATE_32), "NOT MET")
        self.assertEqual(verdict(summary, P99_2000), "NOT MET")


if __name__ == "__main__":
    unittest.main()
