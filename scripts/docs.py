#!/usr/bin/env python3
"""docs/reference: the collection's reference, rendered from the code's own documentation.

    scripts/docs.py          render into docs/reference (make docs)
    scripts/docs.py --check  render into a scratch directory and fail when docs/reference differs from it
                             (make test's build stage: the committed reference is always the code's)

Roles (their meta/argument_specs.yml), modules, filters and the inventory plugin (their DOCUMENTATION) are
rendered by antsibull-docs; the playbooks' page is made from each playbook's opening comment.
"""

import filecmp
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / "collections"
PLAYBOOKS = COLLECTIONS / "ansible_collections/lanying/im/playbooks"
REFERENCE = ROOT / "docs/reference"


def opening_comment(playbook):
    """The comment lines a playbook starts with (after '---'), without their '#'."""
    lines = []
    for line in playbook.read_text().splitlines():
        if line.strip() == "---" and not lines:
            continue
        if not line.startswith("#"):
            break
        lines.append(line[2:] if line.startswith("# ") else line[1:])
    return lines


def playbooks_page():
    out = ["Playbooks", "=========", "",
           "Run each as ``ansible-playbook -i <inventory> lanying.im.<name>`` (or the file in",
           "``collections/ansible_collections/lanying/im/playbooks/``). What each does, from its opening comment:", ""]
    for playbook in sorted(PLAYBOOKS.glob("*.yml")):
        title = "lanying.im.%s" % playbook.stem
        comment = opening_comment(playbook)
        if not comment:
            raise SystemExit("docs: %s has no opening comment to document it with" % playbook)
        out += [title, "-" * len(title), "", "::", ""] + ["    " + line if line else "" for line in comment] + [""]
    return "\n".join(out)


def render(dest):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
               PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "antsibull-docs"), "collection", "--use-current",
                    "--squash-hierarchy", "--output-format", "simplified-rst", "--no-add-antsibull-docs-version",
                    "--no-breadcrumbs", "--fail-on-error", "--cleanup", "everything", "--dest-dir", str(dest),
                    "lanying.im"], check=True, env=env, stdout=subprocess.DEVNULL)
    (dest / "playbooks.rst").write_text(playbooks_page())


def differences(left, right):
    found = []
    comparison = filecmp.dircmp(left, right)
    found += ["only in docs/reference: %s" % name for name in comparison.left_only]
    found += ["missing from docs/reference: %s" % name for name in comparison.right_only]
    found += ["out of date: docs/reference/%s" % name for name in comparison.diff_files]
    return sorted(found)


def main():
    if sys.argv[1:] == ["--check"]:
        with tempfile.TemporaryDirectory() as scratch:
            fresh = pathlib.Path(scratch)
            render(fresh)
            found = differences(REFERENCE, fresh) if REFERENCE.is_dir() else ["docs/reference does not exist"]
        if found:
            print("[docs] docs/reference is not what the code documents; run make docs and commit it:", file=sys.stderr)
            print("\n".join("  " + line for line in found), file=sys.stderr)
            return 1
        print("[docs] docs/reference is the code's own documentation (%d pages)" % len(list(REFERENCE.iterdir())))
        return 0
    if sys.argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    if REFERENCE.exists():
        shutil.rmtree(REFERENCE)
    REFERENCE.mkdir(parents=True)
    render(REFERENCE)
    print("[docs] rendered docs/reference (%d pages)" % len(list(REFERENCE.iterdir())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
