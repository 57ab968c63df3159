"""Readers and writers of real formats."""
