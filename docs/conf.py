"""Sphinx configuration of fastem's documentation site (``make docs``).

The build is strict: every warning is an error (``-W``) and every cross-reference must
resolve (``nitpicky``). The tutorials in ``tutorials/`` are Python scripts that
sphinx-gallery runs at build time, with their figures and printed output; the API
reference comes from the docstrings (numpydoc) and the command-line reference from the
parser itself (``_ext/cli_reference.py``), so neither can drift from the code.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import fastem  # noqa: E402  (after the path above)

project = "fastem"
author = "the fastem authors"
copyright = "2026, the fastem authors"
release = version = fastem.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "cli_reference",
]

# Literal blocks without a language (usage lines, tables a command prints) stay plain text.
highlight_language = "text"

# Flags are written `--flag`: no typographic dashes or quotes anywhere.
smartquotes = False

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "panel",  # the scripts and notes behind the panel of reference fits (tests/)
    "studies",
    "tutorials/README.rst",
    "tutorials/*.py",
    "auto_tutorials/*.ipynb",
    "auto_tutorials/*.py",
    "auto_tutorials/*.zip",
    "auto_tutorials/*.md5",
]
templates_path = ["_templates"]

# Every reference must resolve. The site is built offline (no intersphinx inventories),
# so names of NumPy, SciPy, Dask and the standard library that docstrings mention are
# plain text, not links: these patterns list them.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|scipy|dask|distributed|sklearn|matplotlib|pandas|pyarrow)(\..*)?"),
    (r"py:.*", r"(os|io|pathlib|collections|typing|enum|concurrent|numbers)\..*"),
    (r"py:class", r"(array-like|array_like|ndarray|callable|optional|default|dtype|path-like)"),
    (r"py:class", r"(int|float|str|bool|dict|list|tuple|object|None|bytes|type|slice)"),
]

# MyST: headings up to level 3 get anchors, so that pages link to sections as
# [text](page.md#section).
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]

# numpydoc renders the docstrings; autosummary writes one page per public name.
autosummary_generate = True
autodoc_typehints = "none"
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# The tutorials: every script in tutorials/ runs at build time, in file order, and its
# figures and printed output go into the page. A script that raises fails the build.
sphinx_gallery_conf = {
    "examples_dirs": "tutorials",
    "gallery_dirs": "auto_tutorials",
    "filename_pattern": r".*\.py$",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    # FASTEM_DOCS_TUTORIALS=0 builds the pages without running the tutorials (quicker
    # while writing prose); `make docs` always runs them.
    "plot_gallery": os.environ.get("FASTEM_DOCS_TUTORIALS", "1") != "0",
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "reset_modules_order": "before",
}

# The doctests of `make docs` (sphinx.ext.doctest) see fastem and NumPy.
doctest_global_setup = "import numpy as np\nimport fastem"

html_theme = "pydata_sphinx_theme"
html_title = f"fastem {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "header_links_before_dropdown": 8,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# Pages without sub-pages need no navigation column: their tables get the width.
html_sidebars = {
    page: []
    for page in (
        "index",
        "getting-started",
        "coming-from",
        "benchmarks",
        "architecture",
        "changelog",
    )
}
html_static_path = []
html_show_sourcelink = False

os.environ.setdefault("MPLBACKEND", "Agg")
