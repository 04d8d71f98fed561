"""The compiled rules of this process, reloaded when any process changes a rule.

Every process keeps its own compiled copy (a search reads dictionaries, not the database).
At most every ``MERCHANDISING_RULES_REFRESH_MS`` a search asks the database for the rules'
version (count, newest ``updated_at``, highest id, the latest click-model fit: two indexed
aggregates), and recompiles when it moved. So a rule saved by the admin in one process, or a worker, applies in every server
process within that interval, without a broker or a shared cache.
"""

import threading
import time

from django.conf import settings

from merchandising import selectors
from merchandising.compiled import RuleSet, compile_rules

_lock = threading.Lock()
_state: dict = {"rules": RuleSet(), "version": None, "checked": float("-inf")}


def current_rules() -> RuleSet:
    now = time.monotonic()
    if (now - _state["checked"]) * 1000 < settings.MERCHANDISING_RULES_REFRESH_MS:
        return _state["rules"]
    with _lock:
        if (time.monotonic() - _state["checked"]) * 1000 < settings.MERCHANDISING_RULES_REFRESH_MS:
            return _state["rules"]
        version = selectors.rules_version()
        if version != _state["version"]:
            _state["rules"] = compile_rules(
                selectors.rules_for_engine(), selectors.click_boosts_latest()
            )
            _state["version"] = version
        _state["checked"] = time.monotonic()
    return _state["rules"]


def clear() -> None:
    """Forget the compiled rules (tests; the next search reloads them)."""
    with _lock:
        _state.update(rules=RuleSet(), version=None, checked=float("-inf"))
