"""Answers over incidents: store pushdown, aggregates, summaries, playback, filter choices, scale-out."""
