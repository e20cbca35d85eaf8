"""Emails: rendered from templates in the recipient's language, queued in the outbox, sent by SMTP
or, without an SMTP server, kept in the data folder for the brand's staff to read."""
