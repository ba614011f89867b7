#!/usr/bin/env python3
"""The connection sweep of bench/run.sh: podmeta against nginx at each connection count.

For each count, ROUNDS rounds, each running wrk (2 threads) against both servers, one
right after the other so that both see the same machine state. Which goes first
alternates from round to round (podmeta first in odd rounds), so that neither always
has the first run of a pair. Per run: the rate, the p99 latency, errors
(connect, read, write), time-outs, and the server's RSS two thirds into the run, when
every connection is open and busy. Memory per connection is
(RSS with N connections open - RSS after the first 32-connection run) / N.

Prints a Markdown table of medians with the ratios podmeta/nginx, and writes the raw runs
as JSON to the path given by --raw. Loopback URLs only; every run is bounded by wrk's
duration.

Usage: sweep.py --podmeta URL PID --nginx URL PID[,PID...] [--counts 32,1000,...]
                [--seconds 4] [--rounds 3] [--raw FILE]
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--podmeta", nargs=2, metavar=("URL", "PID"), required=True)
    parser.add_argument("--nginx", nargs=2, metavar=("URL", "PIDS"), required=True)
    parser.add_argument("--counts", default="32,1000,2000,4000,8000")
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--raw")
    args = parser.parse_args()
    servers = {
        "podmeta": (args.podmeta[0], [int(args.podmeta[1])]),
        "nginx": (args.nginx[0], [int(p) for p in args.nginx[1].split(",")]),
    }
    for url, _ in servers.values():
        host = urllib.parse.urlsplit(url).hostname
        if not host.startswith("127."):
            sys.exit(f"sweep.py: {url} is not on loopback")
    counts = [int(c) for c in args.counts.split(",")]

    runs = {name: {} for name in servers}
    baseline = {}
    for count in counts:
        for round_number in range(1, args.rounds + 1):
            order = list(servers.items())
            if round_number % 2 == 0:
                order.reverse()
            for name, (url, pids) in order:
                print(f"{count} connections, round {round_number}/{args.rounds}: {name}", file=sys.stderr)
                runs[name].setdefault(count, []).append(wrk(url, count, args.seconds, pids))
                if name not in baseline:
                    time.sleep(0.5)
                    baseline[name] = rss_kib(pids)
                time.sleep(0.5)

    def med(name, count, key):
        return statistics.median(run[key] for run in runs[name][count])

    def clean_p99(name, count):
        # wrk leaves timed-out requests out of its latency figures: compare p99s only in
        # rounds without time-outs.
        clean = [run["p99_ms"] for run in runs[name][count] if run["timeouts"] == 0]
        return statistics.median(clean) if clean else float("nan")

    def per_connection(name, count):
        return statistics.median((run["rss_kib"] - baseline[name]) / count for run in runs[name][count])

    print("| connections | podmeta req/s | nginx req/s | rate ratio | podmeta p99 ms | nginx p99 ms "
          "| p99 ratio | errors (p/n) | time-outs (p/n) | podmeta KiB/conn | nginx KiB/conn |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    summary = {}
    # Per round, podmeta's figure over nginx's; a p99 ratio only for a round in which
    # neither timed out (None otherwise).
    round_rates, round_p99s = {}, {}
    for count in counts:
        rounds = list(zip(runs["podmeta"][count], runs["nginx"][count]))
        round_rates[count] = [a["rps"] / b["rps"] for a, b in rounds]
        round_p99s[count] = [
            a["p99_ms"] / b["p99_ms"] if a["timeouts"] == 0 and b["timeouts"] == 0 else None
            for a, b in rounds]
        p99_pairs = [ratio for ratio in round_p99s[count] if ratio is not None]
        rate_ratio = statistics.median(round_rates[count])
        p99_ratio = statistics.median(p99_pairs) if p99_pairs else float("nan")
        errors = [sum(run["errors"] for run in runs[name][count]) for name in servers]
        timeouts = [sum(run["timeouts"] for run in runs[name][count]) for name in servers]
        summary[count] = {"rate_ratio": rate_ratio, "p99_ratio": p99_ratio,
                          "errors": errors, "timeouts": timeouts,
                          "kib_per_connection": per_connection("podmeta", count)}
        print(f"| {count:,} | {med('podmeta', count, 'rps'):,.0f} | {med('nginx', count, 'rps'):,.0f} "
              f"| {rate_ratio:.2f} | {clean_p99('podmeta', count):.2f} | {clean_p99('nginx', count):.2f} "
              f"| {p99_ratio:.2f} | {errors[0]}/{errors[1]} | {timeouts[0]}/{timeouts[1]} "
              f"| {per_connection('podmeta', count):.1f} | {per_connection('nginx', count):.1f} |")
    print(f"\nbaseline RSS after 32 connections: podmeta {baseline['podmeta'] / 1024:.1f} MiB, "
          f"nginx {baseline['nginx'] / 1024:.1f} MiB (all workers)")
    print("rounds in order: " + " ".join(
        "podmeta first" if r % 2 else "nginx first" for r in range(1, args.rounds + 1)))
    print("rate ratios per round: " + "; ".join(
        f"{count}: " + " ".join(f"{ratio:.2f}" for ratio in round_rates[count])
        for count in counts))
    print("p99 ratios per round (n/a with time-outs): " + "; ".join(
        f"{count}: " + " ".join("n/a" if ratio is None else f"{ratio:.2f}"
                                for ratio in round_p99s[count])
        for count in counts))
    if args.raw:
        with open(args.raw, "w") as raw:
            json.dump({"runs": runs, "baseline_kib": baseline, "summary": summary}, raw, indent=1)


if __name__ == "__main__":
    main()
