"""Run the book's MyST markdown chapters as notebooks under nbval.

With ``--nbval`` or ``--nbval-lax``, pytest collects every ``book/*.md`` file
that has a Jupyter kernelspec in its front matter (a jupytext MyST notebook)
and runs its code cells, one test per cell, in a fresh kernel whose working
directory is ``book/``, exactly as the book build runs them.  Markdown pages
without a kernelspec (the introduction, the bibliography) are not collected.

The chapter is read with jupytext in memory; no ``.ipynb`` file is written.
"""

from collections import defaultdict
from pathlib import Path

import jupytext
from nbval.plugin import (
    IPyNbCell,
    IPyNbFile,
    find_comment_markers,
    find_metadata_tags,
)

BOOK = Path(__file__).parent / "book"

# MyST-NB tags that the book build honours and nbval does not know by name.
_MYST_NB_TAGS = {"skip-execution": ("skip", True)}


def _is_chapter(path):
    """Whether ``path`` is a MyST markdown notebook of the book."""
    if path.suffix != ".md" or path.parent != BOOK:
        return False
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return False
    front_matter = text.split("---", 2)[1]
    return "kernelspec:" in front_matter


class MystNotebook(IPyNbFile):
    """An nbval notebook read from a jupytext MyST markdown file."""

    def collect(self):
        self.nb = jupytext.read(self.path)
        code_cells = (c for c in self.nb.cells if c.cell_type == "code")
        for cell_num, cell in enumerate(code_cells):
            options = defaultdict(bool, find_metadata_tags(cell.metadata))
            for tag in cell.metadata.get("tags", []):
                if tag in _MYST_NB_TAGS:
                    key, value = _MYST_NB_TAGS[tag]
                    options[key] = value
            options.update(find_comment_markers(cell.source))
            options.setdefault("check", self.compare_outputs)
            yield IPyNbCell.from_parent(
                self,
                name=f"Cell {cell_num}",
                cell_num=cell_num,
                cell=cell,
                options=options,
            )


def pytest_collect_file(file_path, parent):
    option = parent.config.option
    if (option.nbval or option.nbval_lax) and _is_chapter(file_path):
        return MystNotebook.from_parent(parent, path=file_path)
    return None
