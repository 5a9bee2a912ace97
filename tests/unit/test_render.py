"""The template environment renders values as Python literals that cannot inject code."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daglab._errors import TemplateError
from daglab._render import _pyrepr, render

literals = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(literals)
def test_pyrepr_round_trips_through_the_python_parser(value: object) -> None:
    source = f"x = {_pyrepr(value)}\n"
    module = ast.parse(source)
    assert len(module.body) == 1
    assert ast.literal_eval(module.body[0].value) == value  # type: ignore[attr-defined]


def test_missing_variables_fail_loudly() -> None:
    with pytest.raises(TemplateError):
        render("init/daglab.yaml.j2")
