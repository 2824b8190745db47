"""The API reference cannot miss a public name: every name of ``fastem.__all__`` is in an
autosummary list of ``docs/reference/api.rst`` or has a module page, every public
submodule has its page, and every page the reference lists exists.

The reference is written by Sphinx from these lists (``make docs``); these tests read the
lists themselves, so that a name added to the package without its line in the reference
fails here, in the test run, rather than going undocumented.
"""

from __future__ import annotations

import re
from pathlib import Path

import fastem

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "reference"
API = REFERENCE / "api.rst"


def _directive_entries(text: str, directive: str) -> list[str]:
    """The entries of every ``.. directive::`` block of ``text``: its indented lines that
    are not options (``:toctree: generated``) nor blank."""
    entries = []
    for block in re.finditer(rf"^\.\. {directive}::\n((?:[ \t]+.*\n|\n)*)", text, re.M):
        for line in block.group(1).splitlines():
            line = line.strip()
            if line and not line.startswith(":"):
                entries.append(line)
    return entries


def _autosummary_names() -> list[str]:
    return _directive_entries(API.read_text(), "autosummary")


def _module_pages() -> list[str]:
    """The pages of the API reference's toctree (``fastem.init``, ...)."""
    return _directive_entries(API.read_text(), "toctree")


def _module_page(name: str) -> Path:
    return REFERENCE / f"{name}.rst"


def _excluded_members(page: Path) -> set[str]:
    found = re.search(r":exclude-members:(.*)", page.read_text())
    return {name.strip() for name in found.group(1).split(",")} if found else set()


def test_every_public_name_is_in_the_api_reference():
    listed = set(_autosummary_names())
    modules = {name.removeprefix("fastem.") for name in _module_pages()}
    missing = [name for name in fastem.__all__ if name not in listed and name not in modules]
    assert missing == [], f"add to docs/reference/api.rst: {missing}"


def test_every_name_the_api_reference_lists_is_public():
    names = _autosummary_names()
    assert sorted(set(names) - set(fastem.__all__)) == []
    assert len(names) == len(set(names)), "a name is listed twice"


def test_every_public_submodule_has_a_page_in_the_reference():
    pages = set(_module_pages())
    assert [name for name in fastem._SUBMODULES if f"fastem.{name}" not in pages] == []


def test_every_page_the_reference_lists_exists_and_documents_its_module():
    for name in _module_pages():
        page = _module_page(name)
        assert page.is_file(), f"{name} is in api.rst's toctree but {page} is missing"
        assert f".. automodule:: {name}\n" in page.read_text()
    index = (REFERENCE / "index.md").read_text()
    for name in ("api", "cli"):
        assert re.search(rf"^{name}$", index, re.M) and (REFERENCE / f"{name}.rst").is_file()


def test_members_left_out_of_a_module_page_are_documented_at_the_top_level():
    # A module page excludes the names of the top level's autosummary, to document each
    # object once; an excluded name that is not there would be documented nowhere.
    listed = set(_autosummary_names())
    for name in _module_pages():
        excluded = _excluded_members(_module_page(name))
        assert excluded <= listed, f"{name}: {sorted(excluded - listed)} documented nowhere"


def test_the_plots_page_gives_each_constant_its_value_in_the_code():
    # fastem.plots' constants are written out on its page (autodoc does not find their
    # docstrings under that module's name); each must show the value the code has.
    import fastem.plots

    text = _module_page("fastem.plots").read_text()
    constants = re.findall(r"^\.\. py:data:: (\w+)\n   :value: (.*)$", text, re.M)
    public = {name for name in fastem.plots.__all__ if name.isupper()}
    assert {name for name, _ in constants} == public
    for name, value in constants:
        assert value == repr(getattr(fastem.plots, name)), name


EXAMPLED = (
    "fit FitResult select bootstrap_lrt bootstrap simulate study Design starting_values "
    "settledness restart_summary read_fit GaussianMixture plan_replications match_components "
    "StandardErrors Model SpuriousRule Status Table"
).split()
"""The public names whose docstrings show an example, which ``make docs`` runs as a doctest."""


def test_the_main_public_names_have_examples_that_make_docs_runs():
    import fastem.dask
    import fastem.reference

    documented = {name: getattr(fastem, name) for name in EXAMPLED}
    documented |= {"fastem.reference.fit": fastem.reference.fit, "fastem.dask.fit": fastem.dask.fit}
    without = [
        name
        for name, value in documented.items()
        if not re.search(r"^\s*Examples\n\s*--------\n(.*\n)*?\s*>>> ", value.__doc__ or "", re.M)
    ]
    assert without == []
