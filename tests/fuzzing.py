"""How hard the fuzz tests search: bounded in `make test`, deeper on demand.

`SHOPCAST_FUZZ_SCALE=20 make test` (or the same before a pytest command) runs twenty times the
examples of each fuzz test: the WHIP/WHEP offers, the live room's events and the OpenAPI document.
"""

from __future__ import annotations

import os


def examples(default: int) -> int:
    """`default` examples, times SHOPCAST_FUZZ_SCALE."""
    return default * max(1, int(os.environ.get("SHOPCAST_FUZZ_SCALE", "1")))
