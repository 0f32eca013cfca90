"""docs/architecture.md is the code's: every import of every module (function-level ones included) points to
its own stage, a stage above it, or the top floor, in the order the page's sections give, and the page has a
row for every module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from support import REPO

PACKAGE = REPO / "clinesync"
PAGE = (REPO / "docs" / "architecture.md").read_text()
STAGES = re.findall(r"^## \d+\. `(\w+)/`", PAGE, re.MULTILINE)


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage(module: str) -> int:
    """0 for the top floor, then each section's stage in the page's order."""
    parts = module.split(".")
    return STAGES.index(parts[1]) + 1 if len(parts) > 1 and parts[1] in STAGES else 0


def imports(path: Path) -> list[tuple[str, int]]:
    """Every clinesync module `path` imports, anywhere in it, with the line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("clinesync"):
            found += [(f"{node.module}.{alias.name}", node.lineno) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names if alias.name.startswith("clinesync")]
    return found


def test_the_page_names_the_stages_in_data_flow_order() -> None:
    assert STAGES == ["files", "consoles", "plans", "probe", "render", "cli"]


def test_every_import_points_to_its_own_stage_a_stage_above_or_the_top_floor() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        if importer == "clinesync.__main__":  # the entry point runs the command line
            continue
        for imported, line in imports(path):
            if stage(imported) > stage(importer):
                wrong.append(f"{path.relative_to(REPO)}:{line}: {importer} imports {imported}")
    assert not wrong, "\n".join(wrong)


def test_the_page_has_a_row_for_every_module() -> None:
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if path.name in ("__init__.py", "__main__.py") or relative.startswith("cli/"):
            continue  # packages are their sections; cli/ is described in prose
        if f"`{relative}`" not in PAGE:
            missing.append(relative)
    assert not missing, missing


def test_the_command_line_prints_only_what_render_makes() -> None:
    """Views own every line (as Terraform's command views do): cli/ passes no text of its own to the output,
    neither a literal nor a formatted string; messages are render/'s functions and constants."""
    made_here = []
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
                continue
            if node.func.attr in ("out", "err", "info") and _is_text(node.args[0]):
                made_here.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not made_here, made_here


def _is_text(node: ast.expr) -> bool:
    if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return True
    return isinstance(node, ast.BinOp) and (_is_text(node.left) or _is_text(node.right))
