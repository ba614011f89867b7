#!/usr/bin/env python3
"""The connection sweep of bench/run.sh: podmeta against nginx at each connection count,
with hyper and tokio alone (bench/floor.rs, "floor") measured in the same rounds if given.

For each count, ROUNDS rounds, each running wrk (2 threads) against every server, one
right after the other so that all see the same machine state. Which goes first rotates
from round to round (podmeta, floor, nginx; then floor, nginx, podmeta; ...), so that
none always has the first run of a round. Per run: the rate, the p99 latency, errors
(connect, read, write), time-outs, and the server's RSS two thirds into the run, when
every connection is open and busy. Memory per connection is
(RSS with N connections open - RSS after the first 32-connection run) / N.

Prints a Markdown table of medians with the ratios podmeta/nginx, the same for the floor
with podmeta/floor, and writes the raw runs and the summary as JSON to the path given by
--raw. Every ratio is the median of the rounds' ratios. Loopback URLs only; every run is
bounded by wrk's duration.

Usage: sweep.py --podmeta URL PID [--floor URL PID] --nginx URL PID[,PID...]
                [--counts 32,1000,...] [--seconds 4] [--rounds 3] [--raw FILE]
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse


def rss_kib(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def to_ms(value):
    number = float(re.match(r"[\d.]+", value).group(0))
    if value.endswith("us"):
        return number / 1000
    if value.endswith("ms"):
        return number
    if value.endswith("s"):
        return number * 1000
    return number


def wrk(url, connections, seconds, pids):
    """One wrk run; its figures, with the servers' RSS sampled two thirds in."""
    sample = {}

    def take_sample():
        time.sleep(seconds * 2 / 3)
        sample["rss_kib"] = rss_kib(pids)

    sampler = threading.Thread(target=take_sample)
    sampler.start()
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "2s", "--latency", url],
        capture_output=True, text=True, timeout=seconds + 30, check=True,
    ).stdout
    sampler.join()
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    connect, read, write, timeouts = map(int, errors.groups()) if errors else (0, 0, 0, 0)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p99_ms": to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "errors": connect + read + write + (int(non2xx.group(1)) if non2xx else 0),
        "timeouts": timeouts,
        "rss_kib": sample["rss_kib"],
    }


def rotation(names, round_number):
    """The order of a round: the first round's, rotated by one more place each round."""
    shift = (round_number - 1) % len(names)
    return names[shift:] + names[:shift]


def summarize(runs, baseline, counts):
    """Each server's medians per count, the ratios to nginx (and podmeta's to the floor, if
    measured) as medians of the rounds' ratios, and the per-round ratios to nginx.

    `runs[name][count]` is the list of wrk() results in round order; `baseline[name]` the
    server's RSS after the first 32-connection run.
    """
    def med(name, count, key):
        return statistics.median(run[key] for run in runs[name][count])

    def clean_p99(name, count):
        # wrk leaves timed-out requests out of its latency figures: compare p99s only in
        # rounds without time-outs.
        clean = [run["p99_ms"] for run in runs[name][count] if run["timeouts"] == 0]
        return statistics.median(clean) if clean else float("nan")

    def per_connection(name, count):
        return statistics.median((run["rss_kib"] - baseline[name]) / count for run in runs[name][count])

    def per_round(name, other, count):
        """Per round, NAME's rate and p99 over OTHER's; a p99 ratio only for a round in
        which neither timed out (None otherwise)."""
        rounds = list(zip(runs[name][count], runs[other][count]))
        rates = [a["rps"] / b["rps"] for a, b in rounds]
        p99s = [a["p99_ms"] / b["p99_ms"] if a["timeouts"] == 0 and b["timeouts"] == 0 else None
                for a, b in rounds]
        return rates, p99s

    def medians(rates, p99s):
        clean = [ratio for ratio in p99s if ratio is not None]
        return statistics.median(rates), statistics.median(clean) if clean else float("nan")

    def figures(name, count):
        return {"rps": med(name, count, "rps"), "p99_ms": clean_p99(name, count),
                "errors": sum(run["errors"] for run in runs[name][count]),
                "timeouts": sum(run["timeouts"] for run in runs[name][count]),
                "kib_per_connection": per_connection(name, count)}

    # Every server but the reference is compared with it.
    compared = [name for name in runs if name != "nginx"]
    summary = {}
    round_ratios = {name: {} for name in compared}
    for count in counts:
        summary[count] = {"nginx": figures("nginx", count)}
        for name in compared:
            rates, p99s = round_ratios[name][count] = per_round(name, "nginx", count)
            rate_ratio, p99_ratio = medians(rates, p99s)
            summary[count][name] = {**figures(name, count),
                                    "rate_ratio": rate_ratio, "p99_ratio": p99_ratio}
        if "floor" in runs:
            rate_ratio, p99_ratio = medians(*per_round("podmeta", "floor", count))
            summary[count]["podmeta_over_floor"] = {"rate_ratio": rate_ratio, "p99_ratio": p99_ratio}
    return summary, round_ratios


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--podmeta", nargs=2, metavar=("URL", "PID"), required=True)
    parser.add_argument("--floor", nargs=2, metavar=("URL", "PID"))
    parser.add_argument("--nginx", nargs=2, metavar=("URL", "PIDS"), required=True)
    parser.add_argument("--counts", default="32,1000,2000,4000,8000")
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--raw")
    args = parser.parse_args()
    servers = {"podmeta": (args.podmeta[0], [int(args.podmeta[1])])}
    if args.floor:
        servers["floor"] = (args.floor[0], [int(args.floor[1])])
    servers["nginx"] = (args.nginx[0], [int(p) for p in args.nginx[1].split(",")])
    for url, _ in servers.values():
        host = urllib.parse.urlsplit(url).hostname
        if not host.startswith("127."):
            sys.exit(f"sweep.py: {url} is not on loopback")
    counts = [int(c) for c in args.counts.split(",")]

    runs = {name: {} for name in servers}
    baseline = {}
    for count in counts:
        for round_number in range(1, args.rounds + 1):
            for name in rotation(list(servers), round_number):
                url, pids = servers[name]
                print(f"{count} connections, round {round_number}/{args.rounds}: {name}", file=sys.stderr)
                runs[name].setdefault(count, []).append(wrk(url, count, args.seconds, pids))
                if name not in baseline:
                    time.sleep(0.5)
                    baseline[name] = rss_kib(pids)
                time.sleep(0.5)

    summary, round_ratios = summarize(runs, baseline, counts)

    def kib(figures, count):
        # The baseline is the RSS after the first count's first run: at that count the
        # difference is the allocator's noise, not a cost per connection.
        return "n/a" if count == counts[0] else f"{figures['kib_per_connection']:.1f}"

    print("| connections | podmeta req/s | nginx req/s | rate ratio | podmeta p99 ms | nginx p99 ms "
          "| p99 ratio | errors (p/n) | time-outs (p/n) | podmeta KiB/conn | nginx KiB/conn |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for count in counts:
        p, n = summary[count]["podmeta"], summary[count]["nginx"]
        print(f"| {count:,} | {p['rps']:,.0f} | {n['rps']:,.0f} | {p['rate_ratio']:.2f} "
              f"| {p['p99_ms']:.2f} | {n['p99_ms']:.2f} | {p['p99_ratio']:.2f} "
              f"| {p['errors']}/{n['errors']} | {p['timeouts']}/{n['timeouts']} "
              f"| {kib(p, count)} | {kib(n, count)} |")
    if "floor" in servers:
        print("\nThe floor, hyper and tokio alone (bench/floor.rs), in the same rounds:\n")
        print("| connections | floor req/s | rate ratio | floor p99 ms | p99 ratio | errors "
              "| time-outs | floor KiB/conn | podmeta/floor rate | podmeta/floor p99 |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for count in counts:
            f, pf = summary[count]["floor"], summary[count]["podmeta_over_floor"]
            print(f"| {count:,} | {f['rps']:,.0f} | {f['rate_ratio']:.2f} | {f['p99_ms']:.2f} "
                  f"| {f['p99_ratio']:.2f} | {f['errors']} | {f['timeouts']} "
                  f"| {kib(f, count)} | {pf['rate_ratio']:.2f} | {pf['p99_ratio']:.2f} |")
    print(f"\nbaseline RSS after {counts[0]:,} connections (KiB/conn is against it; n/a at "
          f"{counts[0]:,}): " + ", ".join(
        f"{name} {rss / 1024:.1f} MiB" for name, rss in baseline.items()) + " (nginx: all workers)")
    print("rounds in order: " + "; ".join(
        ", ".join(rotation(list(servers), r)) for r in range(1, args.rounds + 1)))
    for name in round_ratios:
        print(f"{name}: rate ratios per round: " + "; ".join(
            f"{count}: " + " ".join(f"{ratio:.2f}" for ratio in round_ratios[name][count][0])
            for count in counts))
        print(f"{name}: p99 ratios per round (n/a with time-outs): " + "; ".join(
            f"{count}: " + " ".join("n/a" if ratio is None else f"{ratio:.2f}"
                                    for ratio in round_ratios[name][count][1])
            for count in counts))
    if args.raw:
        with open(args.raw, "w") as raw:
            json.dump({"runs": runs, "baseline_kib": baseline, "summary": summary}, raw, indent=1)


if __name__ == "__main__":
    main()
