"""Connectors pull customer feedback from source systems into one ``FeedbackItem`` shape.

Nothing here imports Prefect or ``nlp``. A connector yields batches plus the bookmark that
would be valid once the batch is persisted; the caller saves the bookmark only after that.
"""
