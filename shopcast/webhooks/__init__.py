"""Webhooks to the brand's shop: its endpoints, the events they listen to, signed deliveries through the
outbox (Standard Webhooks)."""
