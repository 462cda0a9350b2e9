"""Mergeable latency histograms: exact values kept to 3 significant digits, in nanoseconds.

Every result file (Locust, k6, SQL) becomes this form. The one definition lives in the support
module the generated files use too (support/perfspec_histogram.py); this is its name inside
perfspec.
"""

from __future__ import annotations

from .support.perfspec_histogram import Histogram, half_width, round3

__all__ = ["Histogram", "half_width", "round3"]
