"""Scenarios from a grid: a factorial design (every combination of the values of a few
design variables) and a template of the true mixture whose fields name those variables.

A design file writes it as

.. code-block:: toml

    [grid]
    separation = [2, 3, 4]
    weight = [0.5, 0.2]

    [template]
    name = "d={separation:g} w={weight:g}"
    weights = ["weight", "1 - weight"]
    means = [0, "separation"]
    variances = [1, 1]

and :func:`fastem.grid_scenarios` turns it into one :class:`fastem.Scenario` per combination, in
the order of ``itertools.product`` over the variables as written (the last one varies
fastest), each carrying its variables' values (:attr:`fastem.Scenario.variables`), which
become columns of the study's table and raw rows. A field of the template is a number or
an arithmetic expression of the variables (``+ - * / **``, parentheses, ``sqrt``); its
``name`` is a Python format string of them (by default ``"separation=2 weight=0.5"``).
"""

from __future__ import annotations

import ast
import itertools
import math
import numbers
import re

from .study_results import Scenario

MIXTURE_FIELDS = ("weights", "means", "variances")
TEMPLATE_FIELDS = ("name", *MIXTURE_FIELDS)
FUNCTIONS = {"sqrt": math.sqrt}
"""The functions a template's expression may call."""
RESERVED = re.compile(
    r"^(scenario|n_samples|n_components|init|algorithm|stop|n_init|replications|replication"
    r"|restart|log_likelihood|n_iter|passes|rate|status|seconds|fits_per_s|mega_throughput"
    r"|(true_)?(weight|mean|variance)(_se)?_\d+|(weight|mean|variance)_\d+_\w+)$"
)
"""Names a grid variable may not take: they are columns of the study's tables already."""


class GridError(ValueError):
    """A grid or template that cannot make scenarios (the message says why and the fix)."""


def grid_scenarios(grid: dict, template: dict) -> tuple:
    """One :class:`fastem.Scenario` per combination of the grid's values.

    Parameters
    ----------
    grid : dict of str to list of numbers
        The design variables, each with its values, e.g. ``{"separation": [2, 3, 4],
        "weight": [0.5, 0.2]}``; a name must be a Python identifier and not a column of
        the study's tables, the values distinct numbers.
    template : dict
        The true mixture: ``weights``, ``means`` and ``variances``, each a list of one
        field per component, a number or an expression of the variables as a string
        (``"1 - weight"``, ``"sqrt(2) * separation"``), and an optional ``name``, a format
        string of the variables (``"d={separation:g}"``).

    Returns
    -------
    tuple of Scenario
        In the order of ``itertools.product`` over the variables (the last varies
        fastest), each with ``variables``: ``((name, value), ...)`` in the grid's order.

    Raises
    ------
    GridError
        (a ``ValueError``) for an empty grid or variable, a value that is not a number, a
        repeated value, a reserved or invalid name, a template without a mixture field, an
        expression that names no variable of the grid or does not compute, or a variable
        the template does not use (its scenarios would repeat).

    Examples
    --------
    >>> scenarios = fastem.grid_scenarios(
    ...     {"separation": [2, 4], "weight": [0.5]},
    ...     {"weights": ["weight", "1 - weight"], "means": [0, "separation"],
    ...      "variances": [1, 1]},
    ... )
    >>> [(s.name, s.means) for s in scenarios]
    [('separation=2 weight=0.5', (0.0, 2.0)), ('separation=4 weight=0.5', (0.0, 4.0))]
    >>> scenarios[1].variables
    (('separation', 4.0), ('weight', 0.5))
    """
    variables = _checked_grid(grid)
    fields = _checked_template(template, variables)
    used = set()
    expressions = {}
    for key in MIXTURE_FIELDS:
        expressions[key] = [
            _parsed(key, index, item, variables) for index, item in enumerate(fields[key])
        ]
        used.update(name for parsed in expressions[key] for name in parsed[1])
    unused = [name for name in variables if name not in used]
    if unused:
        raise GridError(
            f"grid variable(s) {', '.join(unused)} appear in no field of the template, so "
            "their scenarios would repeat; use them in weights, means or variances, or "
            "leave them out of the grid."
        )
    names = list(variables)
    scenarios = []
    for values in itertools.product(*variables.values()):
        point = dict(zip(names, values))
        mixture = {
            key: tuple(_value(key, index, parsed, point) for index, parsed in enumerate(items))
            for key, items in expressions.items()
        }
        scenarios.append(
            Scenario(
                **mixture,
                name=_name(fields.get("name"), point),
                variables=tuple(point.items()),
            )
        )
    return tuple(scenarios)


def _checked_grid(grid) -> dict:
    """The grid as ``{name: [float, ...]}``, checked."""
    if not isinstance(grid, dict) or not grid:
        raise GridError(
            "grid must be a table of design variables, each with a list of values, e.g. "
            "separation = [2, 3, 4]"
        )
    variables = {}
    for name, values in grid.items():
        if not (isinstance(name, str) and name.isidentifier()) or name in FUNCTIONS:
            raise GridError(
                f"grid variable {name!r} is not a valid name; use letters, digits and "
                "underscores, starting with a letter"
            )
        if RESERVED.match(name):
            raise GridError(
                f"grid variable {name!r} is a column of the study's tables already; "
                "give it another name"
            )
        if isinstance(values, (str, dict)) or not hasattr(values, "__len__") or not values:
            raise GridError(
                f"grid variable {name!r} must be a non-empty list of numbers, got {values!r}"
            )
        for value in values:
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                raise GridError(
                    f"grid variable {name!r} holds {value!r}; each value must be a number"
                )
        floats = [float(value) for value in values]
        if not all(math.isfinite(value) for value in floats):
            raise GridError(f"grid variable {name!r} holds {floats}; values must be finite")
        if len(set(floats)) < len(floats):
            raise GridError(
                f"grid variable {name!r} repeats a value in {floats}; give each value once"
            )
        variables[name] = floats
    return variables


def _checked_template(template, variables) -> dict:
    if not isinstance(template, dict):
        raise GridError(
            "a grid needs a template: a table of weights, means and variances (numbers or "
            "expressions of the grid's variables) and an optional name"
        )
    missing = [key for key in MIXTURE_FIELDS if key not in template]
    unknown = sorted(set(template) - set(TEMPLATE_FIELDS))
    if missing or unknown:
        problem = (
            f"lacks {', '.join(missing)}"
            if missing
            else f"has unknown field(s) {', '.join(unknown)}"
        )
        raise GridError(
            f"the template {problem}; it takes weights, means and variances (one field per "
            f"component each) and an optional name, with the grid's variables "
            f"({', '.join(variables)})"
        )
    for key in MIXTURE_FIELDS:
        value = template[key]
        if isinstance(value, (str, dict)) or not hasattr(value, "__len__") or not value:
            raise GridError(
                f"the template's {key} must be a list of one field per component (a number "
                f"or an expression of {', '.join(variables)}), got {value!r}"
            )
    name = template.get("name")
    if name is not None and not isinstance(name, str):
        raise GridError(f"the template's name must be a string, got {name!r}")
    return template


_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
    ast.UAdd,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Call,
)


def _parsed(key, index, item, variables):
    """A template field as ``(code or number, names it uses)``."""
    where = f"the template's {key}[{index}]"
    if isinstance(item, numbers.Real) and not isinstance(item, bool):
        return float(item), ()
    if not isinstance(item, str):
        raise GridError(f"{where} is {item!r}; give a number or an expression as a string")
    try:
        tree = ast.parse(item.strip(), mode="eval")
    except SyntaxError:
        raise GridError(f"{where}, {item!r}, is not an arithmetic expression") from None
    names = []
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED) or (
            isinstance(node, ast.Constant) and not isinstance(node.value, (int, float))
        ):
            raise GridError(
                f"{where}, {item!r}: only numbers, the grid's variables, + - * / ** and "
                f"{', '.join(FUNCTIONS)}() are allowed"
            )
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS and not node.keywords
        ):
            raise GridError(f"{where}, {item!r}: the functions are {', '.join(FUNCTIONS)}")
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS:
            if node.id not in variables:
                raise GridError(
                    f"{where}, {item!r}, names {node.id!r}, which is not a grid variable; "
                    f"the grid has {', '.join(variables)}"
                )
            names.append(node.id)
    return tree.body, tuple(names)


def _value(key, index, parsed, point) -> float:
    """A template field's value at a point of the grid."""
    node, _ = parsed
    if isinstance(node, float):
        return node
    try:
        value = float(_evaluate(node, point))
    except (ArithmeticError, TypeError, ValueError) as error:  # (-1) ** 0.5 is complex
        value, reason = math.nan, str(error)
    else:
        reason = "not finite"
    if not math.isfinite(value):
        raise GridError(
            f"the template's {key}[{index}] at {_name(None, point)}: {reason}; change "
            "the expression or the grid's values"
        )
    return value


_OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def _evaluate(node, point) -> float:
    """The value of an expression's tree (checked by :func:`_parsed`) at ``point``."""
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return point[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, point)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](*(_evaluate(arg, point) for arg in node.args))
    return _OPERATORS[type(node.op)](_evaluate(node.left, point), _evaluate(node.right, point))


def _name(pattern, point) -> str:
    """A scenario's name: ``pattern`` formatted with its variables, or ``"a=1 b=0.5"``."""
    if pattern is None:
        return " ".join(f"{name}={value:g}" for name, value in point.items())
    try:
        return pattern.format(**point)
    except (KeyError, IndexError, ValueError) as error:
        raise GridError(
            f"the template's name {pattern!r} cannot be formatted ({error}); name the grid's "
            f"variables in braces, e.g. '{{{next(iter(point))}:g}}'"
        ) from None


# ------------------------------------------------------------------ as fastem.Design takes it


def grid_sample_sizes(grid: dict, n_samples: tuple, default: tuple) -> tuple:
    """A grid's ``n_samples`` are the design's sample sizes (ADEMP's factorial designs list
    n among the grid's variables): ``(sample sizes, the grid without them)``. ValueError
    when the design gives other sample sizes than ``default`` too."""
    sizes = grid["n_samples"]
    if (
        not isinstance(sizes, (list, tuple))
        or not sizes
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in sizes)
    ):
        raise GridError(f"grid's n_samples must be a list of integers, got {sizes!r}.")
    if n_samples not in (default, tuple(sizes)):
        raise GridError(
            f"n_samples is given twice, {list(n_samples)} and in the grid {list(sizes)}; "
            "give it in one place."
        )
    return tuple(sizes), {name: values for name, values in grid.items() if name != "n_samples"}


def grid_mixtures(grid, template, scenarios) -> list:
    """The true mixtures of a design as dicts (``name``, ``weights``, ``means``,
    ``variances``): its ``scenarios``, or those its grid and template make (checked here);
    empty for the single mixture."""
    if grid is None and template is None:
        return list(scenarios)
    if scenarios:
        raise GridError(
            "give either scenarios or a grid and its template, not both: the grid makes "
            "the scenarios."
        )
    if grid is None or template is None:
        given, missing = ("grid", "template") if template is None else ("template", "grid")
        raise GridError(
            f"a {given} needs a {missing}: the grid's variables, and a template of weights, "
            "means and variances that names them."
        )
    return [
        dict(name=s.name, weights=s.weights, means=s.means, variances=s.variances)
        for s in grid_scenarios(grid, template)
    ]
