"""Make ``ansible_collections.lanying.im`` importable when pytest runs from a plain checkout."""

import os
import sys

_COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))
if _COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, _COLLECTIONS_ROOT)
