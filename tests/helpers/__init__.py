"""Shared test code (scenario files, worlds, radio fixtures, scenes); no tests live here."""
