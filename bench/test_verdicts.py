#!/usr/bin/env python3
"""bench/verdicts.py's verdicts, on made-up sweep summaries. Run: python3 bench/test_verdicts.py"""

import copy
import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
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


if __name__ == "__main__":
    unittest.main()
