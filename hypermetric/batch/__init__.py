"""Hyperctl's front door: batch files (`hypermetric run batch.json`), templates (`generate`), typed params."""

from __future__ import annotations

import os

from hypermetric.batch.config import BATCH_SUFFIXES, BatchConfig, is_batch_file, load_batch
from hypermetric.batch.frontend import BatchPipeline, batch_pipeline

__all__ = ["BATCH_SUFFIXES", "BatchConfig", "BatchPipeline", "is_batch_file", "load", "load_batch"]


def load(path: str, cwd: str | None = None) -> BatchPipeline:
    """Read and check a batch file; the pipeline whose one task's cases are the batch's jobs."""
    return batch_pipeline(load_batch(path), os.path.abspath(cwd or os.getcwd()))
