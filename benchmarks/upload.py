"""Uploading an attachment (run: python benchmarks/upload.py [--megabytes N]).

The bundled mock runs in-process on a loopback port; a file of N MB (default 45, under the
contract's 50 MB limit) is uploaded with the client's `upload()` as the app does. Printed: the
time and throughput, how many progress reports came, and the most memory Python held during
the upload beside the size of the file (the body is streamed from disk: it should be a small
fraction of the file, where reading the file into one request body would be 1× or more).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import tracemalloc
from pathlib import Path

from mock_backend import MockBackend, MockConfig
from tui.client.uploads import upload


async def measure(megabytes: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        path = root / "big.bin"
        with path.open("wb") as out:
            block = bytes(range(256)) * 4096
            for _ in range(megabytes):
                out.write(block)
        size = path.stat().st_size
        backend = MockBackend(MockConfig(port=0, token="bench", db_path=root / "s.db"))
        await backend.start()
        reports = 0

        def progress(sent: int, total: int) -> None:
            nonlocal reports
            reports += 1

        try:
            tracemalloc.start()
            started = time.perf_counter()
            attached = await upload(backend.url, "bench", path, on_progress=progress)
            took = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        finally:
            await backend.stop()
        assert attached.size == size
        print(f"uploaded {size / 1e6:.1f} MB in {took:.2f} s ({size / 1e6 / took:.0f} MB/s)")
        print(f"progress reports: {reports}")
        print(
            f"peak Python memory during the upload (client and in-process mock): "
            f"{peak / 1e6:.1f} MB = {peak / size:.2f}x the file (1.00x if held whole)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=45)
    asyncio.run(measure(parser.parse_args().megabytes))


if __name__ == "__main__":
    main()
