"""The package's shape: layers that import only downward, short modules and functions.

The layers, from the bottom: the engine (``fastem/engine``: every numba kernel and the
Python that runs it), the core fit (the modules at the top of the package and ``init/``),
the toolkit (``fastem/toolkit``), other libraries' interfaces (``fastem/interop``) and the
command line (``fastem/cli``). A module may import its own layer and those below it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "fastem"
LAYERS = {"engine": 0, "core": 1, "toolkit": 2, "interop": 3, "cli": 4}
FACADES = {"__init__", "__main__", "dask", "mcse", "plots"}
"""Top-level modules that only hand names on (the package, ``python -m fastem`` and the
import paths ``fastem.dask``, ``fastem.mcse`` and ``fastem.plots``): above every layer."""
MAX_TOP_LEVEL_MODULES = 17
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80
MAX_PARAMETERS = 12
PUBLIC_SIGNATURES = {
    "interop/estimator.py:GaussianMixture.__init__": "scikit-learn's GaussianMixture",
    "toolkit/study.py:_own": "fastem.study's own keywords, the study settings of a Design",
}
"""Functions allowed more than ``MAX_PARAMETERS`` parameters, and the signature they mirror."""


def _modules():
    return sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _layer(path: Path) -> int | None:
    relative = path.relative_to(PACKAGE)
    if len(relative.parts) == 1:
        return None if relative.stem in FACADES else LAYERS["core"]
    return LAYERS.get(relative.parts[0], LAYERS["core"])


def _imported_modules(path: Path):
    """The fastem modules (as paths) that ``path`` imports, anywhere in its body."""
    tree = ast.parse(path.read_text())
    package = path.parent
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        base = package
        for _ in range(node.level - 1):
            base = base.parent
        if node.module:
            base = base.joinpath(*node.module.split("."))
        for alias in node.names:
            for candidate in (base / alias.name, base):
                if candidate.with_suffix(".py").is_file():
                    yield node.lineno, candidate.with_suffix(".py")
                    break
                if (candidate / "__init__.py").is_file():
                    yield node.lineno, candidate / "__init__.py"
                    break


def _functions(tree):
    """Every function with its qualified name and whether it is compiled by numba."""

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                jitted = any("jit" in ast.unparse(d) for d in child.decorator_list)
                yield f"{prefix}{child.name}", child, jitted
                yield from walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")

    yield from walk(tree, "")


def _lines_of_code(source_lines, node) -> int:
    """Lines of ``node`` that hold code: not blank, not comments, not docstrings."""
    docstrings = set()
    for inner in ast.walk(node):
        body = getattr(inner, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    return sum(
        1
        for number in range(node.lineno, node.end_lineno + 1)
        if number not in docstrings
        and source_lines[number - 1].strip()
        and not source_lines[number - 1].strip().startswith("#")
    )


def test_modules_import_only_their_own_layer_and_those_below():
    upward = []
    for path in _modules():
        layer = _layer(path)
        if layer is None:
            continue
        for line, target in _imported_modules(path):
            target_layer = _layer(target)
            if target_layer is not None and target_layer > layer:
                upward.append(f"{_name(path)}:{line} imports {_name(target)}")
    assert upward == []


def test_only_the_engine_compiles():
    outside = []
    for path in _modules():
        if _layer(path) == LAYERS["engine"]:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [alias.name for alias in node.names]
                module = getattr(node, "module", None) or ""
                if module.startswith("numba") or "numba" in names or "jit" in names:
                    outside.append(f"{_name(path)}:{node.lineno}")
    assert outside == []


def test_the_top_of_the_package_holds_few_modules():
    top = [path.stem for path in PACKAGE.glob("*.py")]
    assert len(top) <= MAX_TOP_LEVEL_MODULES, sorted(top)


def test_modules_are_short():
    lengths = {_name(path): len(path.read_text().splitlines()) for path in _modules()}
    assert {name: n for name, n in lengths.items() if n > MAX_MODULE_LINES} == {}


def test_functions_outside_the_kernels_are_short_and_take_few_parameters():
    long, wide = [], []
    for path in _modules():
        source = path.read_text()
        lines = source.splitlines()
        for name, node, jitted in _functions(ast.parse(source)):
            if jitted:
                continue
            where = f"{_name(path)}:{name}"
            if _lines_of_code(lines, node) > MAX_FUNCTION_LINES:
                long.append(where)
            arguments = node.args
            n_parameters = (
                len(arguments.posonlyargs)
                + len(arguments.args)
                + len(arguments.kwonlyargs)
                - (bool(arguments.args) and arguments.args[0].arg in ("self", "cls"))
            )
            if n_parameters > MAX_PARAMETERS and where not in PUBLIC_SIGNATURES:
                wide.append(f"{where} ({n_parameters})")
    assert long == []
    assert wide == []
