"""Shared parts of the simulator: routing, store, long-running operations, faults, errors."""
