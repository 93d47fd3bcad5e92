"""Movements: families of hashtags and phrases, and the one normaliser and extractor used everywhere."""
