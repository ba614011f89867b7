"""Measures start-up to ready: from spawning podmeta to its first 200 on /readyz.

Usage: startup.py BINARY RUNS [extra podmeta args...]; prints the median in milliseconds.
Each poll loop is bounded (5 s); each run's process is stopped before the next.
"""
import socket
import statistics
import subprocess
import sys
import time

binary, runs, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


times = []
for _ in range(runs):
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([binary, "--bind", f"127.0.0.1:{port}", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = start + 5
    while not ready(port):
        if time.perf_counter() > deadline:
            proc.kill()
            sys.exit(f"podmeta was not ready within 5 s ({extra})")
        time.sleep(0.0002)
    times.append((time.perf_counter() - start) * 1000)
    proc.terminate()
    proc.wait(timeout=10)
print(f"{statistics.median(times):.1f}")
