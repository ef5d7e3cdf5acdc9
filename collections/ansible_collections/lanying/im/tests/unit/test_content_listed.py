"""The collection README and the reference (docs/reference) list every role, plugin and playbook the
collection has; the build stage (scripts/docs.py --check) proves the reference is the code's own."""

import pathlib
import re

import pytest

COLLECTION = pathlib.Path(__file__).resolve().parents[2]
README = (COLLECTION / "README.md").read_text()
REFERENCE = COLLECTION.parents[3] / "docs" / "reference"
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


@pytest.mark.parametrize("name, kind", content())
def test_in_the_reference(name, kind):
    if kind == "playbook":
        assert "\nlanying.im.%s\n" % name in (REFERENCE / "playbooks.rst").read_text(), (
            "docs/reference/playbooks.rst has no section for lanying.im.%s: run make docs" % name)
    else:
        page = REFERENCE / ("%s_%s.rst" % (name, kind))
        assert page.is_file(), "docs/reference has no page for lanying.im.%s (%s): run make docs" % (name, kind)


def test_the_reference_has_nothing_that_is_not_there():
    kinds = {"role", "module", "filter", "inventory"}
    pages = set(tuple(page.stem.rsplit("_", 1)) for page in REFERENCE.glob("*_*.rst")
                if page.stem.rsplit("_", 1)[1] in kinds)
    assert pages == set(item for item in content() if item[1] != "playbook")


def test_roles_install_packages_through_lanying_im_packages():
    """ansible.builtin.apt costs about a second per task even with nothing to do; lanying.im.packages asks apt
    only for what is missing. apt stays for refreshing an index (update_cache) only."""
    found = []
    for tasks in sorted((COLLECTION / "roles").glob("*/tasks/*.yml")):
        for match in re.finditer(r"ansible\.builtin\.apt:\n((?:\s{4,}.*\n)*)", tasks.read_text()):
            if re.search(r"^\s+(name|pkg|deb):", match.group(1), re.MULTILINE):
                found.append(str(tasks.relative_to(COLLECTION)))
    assert not found, "install with lanying.im.packages instead of ansible.builtin.apt: %s" % ", ".join(found)
