"""The edge agent: a standalone service on every edge node (no database, no Django).

It receives signed config batches from the console, applies per domain only revisions newer than the one it
holds, keeps its state in an atomically written file, and reports what it holds on `GET /status`.
"""
