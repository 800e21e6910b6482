"""Word statistics of a text."""

from textstats.counting import top_words, word_count

__all__ = ["top_words", "word_count"]
