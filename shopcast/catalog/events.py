"""Realtime events of the shop, published to the episode's room (docs/api.md lists each)."""

from __future__ import annotations

PIN_SHOWN = "pin:shown"
PIN_HIDDEN = "pin:hidden"
STOCK_CHANGED = "stock:changed"
DEAL_STARTED = "deal:started"
DEAL_CHANGED = "deal:changed"
DEAL_ENDED = "deal:ended"
# Passing state: at most once a second, never kept for catch-up (the join snapshot has the count).
SALES_BOUGHT = "sales:bought"
