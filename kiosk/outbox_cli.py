"""``kiosk outbox list`` and ``kiosk outbox requeue``: the operator's hands on dead letters.

A dead letter is a record the backend refused by itself, with its reason (the reason names a
field, never a value); the kiosk set it aside and sent the rest. Once the cause is fixed (the
kiosk's software updated, the backend changed, the kiosk re-enrolled), ``requeue`` puts it back in
the queue under its own seq; the running kiosk's sync worker sends it on its next pass. A record
older than records the backend accepted since is refused again as out of order and stays a dead
letter, kept as evidence (docs/sync.md). Nothing is ever deleted here.
"""

from __future__ import annotations

import sys
from typing import Any

from kiosk.outbox import Outbox
from kiosk.store import StoreError, open_store

SHOWN = 1000


def _visible(text: str) -> str:
    """Control characters shown escaped (a refused type may hold a newline, which is why it was refused)."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def outbox_command(config: Any, args: Any) -> int:
    try:
        store = open_store(config, require_signer=False)
    except (StoreError, OSError) as exc:
        print(f"Cannot open the local store: {exc}", file=sys.stderr)
        return 1
    try:
        outbox = Outbox(store)
        letters = outbox.dead_letters(SHOWN)
        if args.outbox_command == "list":
            counts = outbox.counts()
            print(f"{counts.queued} queued, {counts.dead} refused for good (dead letters)")
            for d in letters:
                print(f"#{d.seq}  {_visible(d.type)}  {d.dead_at}  {_visible(d.reason)}")
            return 0
        wanted = {d.seq: d for d in letters} if args.all else {}
        unknown = []
        for seq in args.seq or []:
            match = next((d for d in letters if d.seq == seq), None)
            if match is None:
                unknown.append(seq)
            else:
                wanted[seq] = match
        if not wanted and not unknown:
            print("Nothing to requeue: name the records' numbers (see `kiosk outbox list`) or use --all.",
                  file=sys.stderr)
            return 2
        requeued = sum(outbox.requeue(d.id) for d in wanted.values())
        print(f"{requeued} record(s) back in the queue; the kiosk sends them on its next sync.")
        if unknown:
            print(f"Not dead letters here (nothing done): {', '.join(f'#{s}' for s in unknown)}", file=sys.stderr)
            return 2
        return 0
    finally:
        store.close()
