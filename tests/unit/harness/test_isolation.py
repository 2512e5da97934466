"""The harness runs in the GPU pod on its own: it never imports the platform (contract §1)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[3] / "harness" / "modelcat_harness"
PLATFORM = {"assets", "resources", "serving", "orchestration", "modelcat", "tests"}
# Imported at module level, so importing the harness pulls them in: only these are allowed.
TOP_LEVEL_ALLOWED = {"dagster_pipes", "modelcat_harness"}


def _imports(tree: ast.AST) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], node.col_offset) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module.split(".")[0], node.col_offset))
    return found


def test_no_module_imports_the_platform() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 10
    for path in modules:
        names = {name for name, _ in _imports(ast.parse(path.read_text()))}
        assert not names & PLATFORM, f"{path.name} imports {names & PLATFORM}"


def test_the_inference_stack_is_imported_lazily() -> None:
    """torch, transformers, httpx, boto3 and pynvml are imported inside functions only."""
    import sys

    for path in sorted(PACKAGE.rglob("*.py")):
        for name, column in _imports(ast.parse(path.read_text())):
            if column == 0 and name not in sys.stdlib_module_names:
                assert name in TOP_LEVEL_ALLOWED, f"{path.name} imports {name} at module level"
