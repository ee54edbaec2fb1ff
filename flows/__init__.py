"""Prefect flows: thin tasks that call the pure code in vocflow/, nlp/, connectors/, outputs/."""
