"""Test-only helpers shared by tests/ and bench/ (fuzzed callers, corpus generation); never imported by src/."""
