"""Classifiers over a letter's text and fields: notice type, scam assessment, review routing."""
