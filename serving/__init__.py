"""The Model Catalog HTTP API: FastAPI over Redis (hot path) and PostgreSQL (fallback).

Run it with ``uvicorn serving.app:create_app --factory``.
"""
