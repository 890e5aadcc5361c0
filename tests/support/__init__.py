"""Helpers the tests and the benchmarks share: hand-made histories, replays through the store, a
throwaway PostgreSQL database, a real registry and server, and the reliability drivers."""
