"""The worked examples in the policy, stay-plan, rooming and regulation pages run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ["policies.md", "stay-plans.md", "rooming.md", "regulations.md"]


@pytest.mark.parametrize("page", PAGES)
def test_python_examples_in_the_page_run(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    runnable = [b for b in blocks if "Disruption(...)" not in b]
    assert runnable, f"{page} has no worked example"
    namespace: dict[str, object] = {}
    for block in runnable:
        exec(compile(block, f"{page}", "exec"), namespace)
