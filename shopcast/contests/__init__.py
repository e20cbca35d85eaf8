"""Giveaways: entries, eligibility, the verifiable draw, winners and their claims."""
