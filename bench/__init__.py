"""Codev's load bench (`make bench`): see bench/cli.py and docs/performance.md."""
