"""One model loads at a time in a process.

transformers resolves most of its names lazily: ``from transformers import X`` and
``from_pretrained`` import submodules on first use. Two threads doing that at once can find a
module half imported: a search that loaded CLIP while the web worker's warm-up thread loaded
the text model failed with "cannot import name 'AutoImageProcessor' from 'transformers'"
(seen in bench/search.py; reproduced with the text model loading 1.5 s before CLIP). A search
also loads the text model in its second thread while CLIP loads in the first. Loads take
seconds and happen once per process, so they simply take turns.
"""

from __future__ import annotations

import threading

# Re-entrant: a loader that loads another model on the way (none does today) cannot deadlock.
MODEL_LOAD_LOCK = threading.RLock()
