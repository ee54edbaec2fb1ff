"""Pure NLP for vocflow: cleaning, PII redaction, language, embeddings, sentiment, themes.

Nothing here imports Prefect or ``connectors``; functions take texts and arrays and return
texts, arrays and small dataclasses so they can be tested on tiny inline data.
"""
