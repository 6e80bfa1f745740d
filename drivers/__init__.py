"""Device drivers: one package per device kind (api, real driver, wire-level simulator)."""
