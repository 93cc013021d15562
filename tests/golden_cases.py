"""Golden case files (black's format): `# args:` line, input, `# expected`, expected output.

A case without `# expected` must come out unchanged: the guard against false positives.
A `# xfail: reason` line after `# args:` marks a known failure (run as strict xfail).
"""

from __future__ import annotations

import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

GOLDEN = Path(__file__).parent / "golden"
EXPECTED = "# expected\n"


@dataclass
class Case:
    """One golden case: its command line, input text and expected output."""

    path: Path
    args: list[str]
    input: str
    expected: str | None
    xfail: str | None

    @classmethod
    def load(cls, path: Path) -> Case:
        """Parse a case file."""
        text = path.read_text(encoding="utf-8")
        first, _, rest = text.partition("\n")
        if not first.startswith("# args:"):
            raise ValueError(f"{path}: first line must be '# args: <command line>'")
        xfail = None
        if rest.startswith("# xfail:"):
            line, _, rest = rest.partition("\n")
            xfail = line.removeprefix("# xfail:").strip()
        body, sep, expected = rest.partition(EXPECTED)
        return cls(
            path, shlex.split(first.removeprefix("# args:")), body, expected if sep else None, xfail
        )

    def run(self) -> str:
        """Run the case's command on its input (as a .txt file) and return the output text."""
        from cleanup.cli import cli

        args = self.args[1:] if self.args[:1] == ["cleanup"] else self.args
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "in" / (self.path.stem + ".txt")
            src.parent.mkdir()
            src.write_text(self.input, encoding="utf-8")
            out = Path(tmp) / "out"
            io = ["-i", str(src.parent), "-o", f"{out}/", "-q"]
            # `pipe` takes its run-wide options before the chained steps
            pipe = args[:1] == ["pipe"]
            command = ["pipe", *io, *args[1:]] if pipe else [*args, *io[1:]]
            result = CliRunner().invoke(cli, command)
            if result.exit_code != 0:
                raise RuntimeError(f"{self.path.name}: exit {result.exit_code}: {result.output}")
            target = out / (self.path.stem + ".txt")
            return target.read_text(encoding="utf-8") if target.exists() else ""

    def write_expected(self, output: str) -> None:
        """Rewrite the case file's expected section with `output`."""
        head = f"# args: {shlex.join(self.args)}\n"
        if self.xfail:
            head += f"# xfail: {self.xfail}\n"
        self.path.write_text(head + self.input + EXPECTED + output, encoding="utf-8")


def cases() -> list[Case]:
    """Return every golden case, sorted by file name."""
    return [Case.load(p) for p in sorted(GOLDEN.glob("*.txt"))]
