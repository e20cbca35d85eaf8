"""Polls: questions to the audience during a live, votes, live tallies and stored results."""
