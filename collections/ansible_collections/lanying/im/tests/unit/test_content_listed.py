"""The collection README lists every role, plugin and playbook the collection has, with its type."""

import pathlib
import re

import pytest

COLLECTION = pathlib.Path(__file__).resolve().parents[2]
README = (COLLECTION / "README.md").read_text()
PLUGIN_TYPES = {"modules": "module", "filter": "filter", "inventory": "inventory"}


def content():
    found = [(role.name, "role") for role in sorted((COLLECTION / "roles").iterdir()) if role.is_dir()]
    for directory, kind in PLUGIN_TYPES.items():
        found += [(plugin.stem, kind) for plugin in sorted((COLLECTION / "plugins" / directory).glob("*.py"))
                  if not plugin.stem.startswith("_")]
    found += [(playbook.stem, "playbook") for playbook in sorted((COLLECTION / "playbooks").glob("*.yml"))]
    return found


@pytest.mark.parametrize("name, kind", content())
def test_listed_in_the_collection_readme(name, kind):
    assert re.search(r"^\| `lanying\.im\.%s` \| %s \| \S" % (re.escape(name), kind), README, re.MULTILINE), (
        "the collection README's Content table has no row for lanying.im.%s (%s)" % (name, kind))


def test_the_readme_lists_nothing_that_is_not_there():
    listed = set(re.findall(r"^\| `lanying\.im\.([a-z0-9_]+)` \| ([a-z]+) \|", README, re.MULTILINE))
    assert listed == set(content())
