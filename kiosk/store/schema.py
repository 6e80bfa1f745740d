"""The local store's schema, as numbered migrations (``PRAGMA user_version`` holds the number).

Append a migration to add something; never edit one that has shipped: kiosks in the field
upgrade from whatever version they hold, each step in its own transaction.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, ...]] = [
    # 1: outbox, sequence counter, the visit's local state, small key/value facts.
    (
        """CREATE TABLE meta (
               key   TEXT PRIMARY KEY,
               value TEXT NOT NULL
           )""",
        # seq is allocated here inside the record's own transaction: monotonic, survives purges.
        """CREATE TABLE seq_counter (
               kiosk_id TEXT PRIMARY KEY,
               last_seq INTEGER NOT NULL
           )""",
        """CREATE TABLE outbox (
               n            INTEGER PRIMARY KEY AUTOINCREMENT,  -- local creation order = send order
               id           TEXT NOT NULL UNIQUE,               -- UUIDv7, the backend's idempotency key
               kiosk_id     TEXT NOT NULL,
               seq          INTEGER NOT NULL,
               type         TEXT NOT NULL,
               operator_id  TEXT,
               created_at   TEXT NOT NULL,                      -- RFC 3339 UTC, as signed
               created_ts   REAL NOT NULL,
               envelope     TEXT NOT NULL,                      -- signed JSON, sent byte for byte
               state        TEXT NOT NULL DEFAULT 'queued'
                            CHECK (state IN ('queued', 'synced', 'dead')),
               attempts     INTEGER NOT NULL DEFAULT 0,
               last_error   TEXT,
               synced_ts    REAL,
               status       TEXT,                               -- accepted | duplicate
               outcome      TEXT,                               -- ok | already_certified | deceased ...
               message      TEXT,
               dead_reason  TEXT,
               dead_ts      REAL,
               has_capture  INTEGER NOT NULL DEFAULT 0,         -- holds sealed review material
               outcome_seen INTEGER NOT NULL DEFAULT 0,         -- operator acknowledged the outcome
               UNIQUE (kiosk_id, seq)
           )""",
        "CREATE INDEX outbox_state_n ON outbox (state, n)",
        "CREATE INDEX outbox_synced_ts ON outbox (synced_ts) WHERE state = 'synced'",
        """CREATE TABLE local_state (
               namespace  TEXT NOT NULL,
               key        TEXT NOT NULL,
               value      TEXT NOT NULL,                        -- JSON
               updated_ts REAL NOT NULL,
               PRIMARY KEY (namespace, key)
           )""",
    ),
]

SCHEMA_VERSION = len(MIGRATIONS)
