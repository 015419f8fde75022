"""The README's test command, CI and the Dockerfile agree with each other and with the code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return next(
        line
        for line in readme.splitlines()
        if line.startswith("python3 -m venv") and line.endswith("&& python -m pytest")
    )


def test_ci_runs_the_readme_test_command_with_a_fallback_for_pytorch():
    command = _readme_test_command()
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    fallback = re.search(
        r"\(pip install (torch==[\d.]+) --index-url \S+ .*\|\| pip install (\S+)\)", command
    )
    assert fallback is not None and fallback.group(1) == fallback.group(2)
    assert "--retries 0" in command and "--timeout" in command  # fails fast when unreachable


def test_the_serving_image_is_pinned_checked_and_without_lightning():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^FROM (\S+)", dockerfile, re.M)
    assert base is not None and (
        "@sha256:" in base.group(1) or re.search(r":\d+\.\d+\.\d+-", base.group(1))
    )
    extras = re.findall(r'pip install "\.\[([^\]]*)\]"', dockerfile)
    assert extras and all("transformer" not in e and "dev" not in e for e in extras)
    check = re.search(r"^HEALTHCHECK .*\n?.*(http://127\.0\.0\.1:\d+(/\w+))", dockerfile, re.M)
    assert check is not None and "curl" not in check.group(0)
    serve = (ROOT / "src" / "odio" / "serve").rglob("*.py")
    assert any(f'.get("{check.group(2)}"' in p.read_text(encoding="utf-8") for p in serve)
