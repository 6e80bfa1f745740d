"""The field profile (issue 8): operator sign-in, encrypted roster, offline certification,
assisted cases, conflicts after sync, day report, battery. See docs/field.md."""
