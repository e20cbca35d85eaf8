"""Viewers who asked to hear from a brand beyond their orders: reminders of a coming episode (before
it starts, when it goes live, if it is cancelled), with their consent, and the brand's unsubscribes."""
