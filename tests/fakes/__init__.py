"""Fakes of outside systems we cannot reach in tests; each speaks the real protocol."""
