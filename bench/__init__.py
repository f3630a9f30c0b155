"""Throughput and latency of the mesh, reported as ratios against baselines of the same run."""
