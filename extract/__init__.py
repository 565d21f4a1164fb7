"""Extraction pipeline: one module a stage, plain functions."""
