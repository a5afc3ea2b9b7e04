"""A stand-in BridgeHub program that speaks the CLI protocol and can be told to misbehave.

    python -m mock_backend.fake_bridgehub [--mode MODE] [--delay S] --request '<json>'

`--mode` (or env FAKE_BRIDGEHUB_MODE) picks the behaviour; `ok` answers with the simulated
BridgeHub's reply. The others reproduce what broke the reference server's adapter.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from mock_backend.bridgehub.protocol import PAYLOAD_PREFIX, payload_line
from mock_backend.bridgehub.simulated import respond

MODES = {
    "ok": "answer like the simulated BridgeHub, after a few log lines",
    "huge": "answer with a payload line of about 200 KiB (over asyncio's 64 KiB line limit)",
    "invalid-json": "print a JARVIS_PAYLOAD line that is not JSON",
    "data-null": 'print {"ok":true,"data":null} with no summary',
    "data-null-summary": 'print {"ok":true,"data":null,"summary":...}: the summary is the answer',
    "fail": "print an ok:false payload with a reason",
    "exit-nonzero": "print a valid payload, then exit with status 3",
    "chatty-stderr": "write 1 MiB to stderr before answering (fills an undrained pipe)",
    "no-payload": "print only log lines",
    "hang": "never answer",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fake_bridgehub", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mode", default=os.environ.get("FAKE_BRIDGEHUB_MODE", "ok"), choices=MODES
    )
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before answering")
    parser.add_argument("--request", required=True)
    args = parser.parse_args(argv)
    request = json.loads(args.request)
    out = sys.stdout

    print(f"[bridgehub] session={request.get('session')} action={request.get('action')}", file=out)
    if args.delay:
        time.sleep(args.delay)
    mode = args.mode
    if mode == "hang":
        while True:
            time.sleep(3600)
    if mode == "chatty-stderr":
        for i in range(16 * 1024):
            print(f"[bridgehub:debug] {i:06d} " + "x" * 48, file=sys.stderr)
    if mode == "no-payload":
        print("[bridgehub] done, but no payload", file=out)
        return 0
    if mode == "invalid-json":
        print(PAYLOAD_PREFIX + '{"ok": true, "data": {"output": "unterminated', file=out)
        return 0
    if mode == "data-null":
        print(payload_line({"ok": True, "data": None}), file=out)
        return 0
    if mode == "data-null-summary":
        print(payload_line({"ok": True, "data": None, "summary": "Summary only."}), file=out)
        return 0
    if mode == "fail":
        print(
            payload_line({"ok": False, "reason": "agent crashed", "details": "exit 137"}), file=out
        )
        return 0
    payload = respond(request)
    if mode == "huge":
        body = "".join(f"line {i:05d} of a very long answer\n" for i in range(6000))
        payload = {"ok": True, "summary": "huge", "data": {"output": body}}
    print("[bridgehub] answering", file=out)
    print(payload_line(payload), file=out)
    print("[bridgehub] bye", file=out)
    return 3 if mode == "exit-nonzero" else 0


if __name__ == "__main__":
    sys.exit(main())
