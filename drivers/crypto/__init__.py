"""Block ciphers and ISO 9564 PIN blocks, shared by the PIN pad, the PSAM and their simulators."""
