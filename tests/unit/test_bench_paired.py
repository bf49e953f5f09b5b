"""`python -m bench.paired` compares two revisions round by round, each served from its own sources."""

import subprocess

import pytest

from bench.paired import WORKING_TREE, paired_differences, serve_command, source_tree
from bench.run import ROOT


def test_differences_pair_the_rounds_in_order() -> None:
    assert paired_differences([5.0, 6.0, 4.5], [4.5, 6.5, 4.0]) == [-0.5, 0.5, -0.5]
    with pytest.raises(ValueError, match="differ in number"):
        paired_differences([5.0], [5.0, 4.0])


def test_a_revision_is_served_from_a_worktree_of_its_own_that_goes_afterwards() -> None:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    with source_tree("HEAD") as tree:
        assert tree != ROOT
        assert (tree / "factline" / "llm.py").is_file()
        shown = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=tree, capture_output=True, text=True, check=True
        )
        assert shown.stdout == head.stdout
        # The service imports the tree's packages before the installed ones.
        code = serve_command(tree)[-1]
        assert code.startswith(f"import sys; sys.path.insert(0, {str(tree)!r})")
    assert not tree.exists()
    listed = subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert str(tree) not in listed.stdout


def test_the_working_tree_is_served_as_it_is() -> None:
    with source_tree(WORKING_TREE) as tree:
        assert tree == ROOT
