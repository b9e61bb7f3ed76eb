"""Benchmarks: programs that print numbers (STYLE.md §14); see bench/README.md."""

__all__: list[str] = []
