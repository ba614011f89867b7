#!/usr/bin/env python3
"""Floods HOST:PORT with COUNT connections at once, as a fleet of pooled callers would.

Each connection sends one keep-alive GET of PATH, then holds the connection open and idle
until SECONDS have passed since the start (or the server closes it). Everything is
bounded by SECONDS; it prints one line of counts as JSON:
  connected, answered (a 200), closed_by_server (before the end), connect_failed.

Usage: flood.py HOST PORT COUNT SECONDS [PATH]   (loopback addresses only)
"""

import asyncio
import ipaddress
import json
import resource
import sys
import time


async def caller(host, port, path, deadline, counts):
    def left():
        return max(0.05, deadline - time.monotonic())

    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), left())
    except (OSError, asyncio.TimeoutError):
        counts["connect_failed"] += 1
        return
    counts["connected"] += 1
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: flood\r\n\r\n".encode())
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), left())
        if status.startswith(b"HTTP/1.1 200"):
            counts["answered"] += 1
        # Idle until the end; an empty read is the server closing it.
        while time.monotonic() < deadline:
            if not await asyncio.wait_for(reader.read(65536), left()):
                counts["closed_by_server"] += 1
                break
    except (OSError, asyncio.TimeoutError):
        pass
    finally:
        writer.close()


async def main():
    host, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    path = sys.argv[5] if len(sys.argv) > 5 else "/pods/eu1"
    if not ipaddress.ip_address(host).is_loopback:
        sys.exit(f"flood.py: {host} is not a loopback address")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if count + 16 > hard:
        sys.exit(f"flood.py: {count} connections need more than the open-file limit {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    counts = dict(connected=0, answered=0, closed_by_server=0, connect_failed=0)
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(caller(host, port, path, deadline, counts) for _ in range(count)))
    print(json.dumps(counts))


if __name__ == "__main__":
    asyncio.run(main())
