"""Usage and config errors: one line naming what is wrong, exit status 2, never a traceback.

Every numeric option refuses the same values on the command line, in a TOML config and as a
Python keyword; config files are read relative to their own folder; `state prune` refuses
a limit that would remove what it should not, and leaves the state untouched.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cleanup
from cleanup.cli import cli
from cleanup.errors import UsageProblem
from cleanup.pipeline import Pipeline, all_specs

ROOT = Path(__file__).parent.parent
RECORD = json.dumps({"id": "a", "text": "Hello world."}) + "\n"

# Values each numeric option must refuse (the spec, independent of the code's declarations).
BAD: dict[str, list[Any]] = {
    "block-max-words": [0, -1, 2.5],
    "block-max-lines": [-1, 1.5],
    "paragraph-threshold": [0, -0.1, 1.01, math.nan, math.inf],
    "paragraph-shingle-size": [0, 9, 2.5],
    "min-paragraph-words": [-1, 0.5],
    "doc-threshold": [0, -1, 1.5, math.nan, -math.inf],
    "cross-doc-threshold": [0, -0.1, 1.01, math.nan],
    "doc-shingle-size": [0, 9],
    "num-perm": [7, 1025, -128],
    "doc-bands": [-1, 1025, 2.5],
    "doc-rows": [-1, 1025, 2.5],
    "doc-containment": [-0.1, 1.5],
    "minhash-seed": [-1, 2**32],
    "boilerplate-min-docs": [1, -1, 3.5],
    "wait": [-1, math.nan, math.inf],
}
STEP_OF = {o.name: s.name for s in all_specs() for o in s.options}
CASES = [(name, value) for name, values in BAD.items() for value in values]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _one_error(result: Result, *needles: str) -> str:
    """Assert exit 2, exactly one `Error:` line holding every needle, and no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def _flag(value: Any) -> str:
    return str(value)


def _toml(value: Any) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


# 1. Config errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["run"], ["pipe", "normalize"], ["pipe", "dedup", "normalize"]]
)
@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("[nope]\nx = 1\n", ["unknown section [nope]"]),
        ("[run]\nworkers = 2\n[normalize\n", ["not valid TOML", "line 3"]),
        ('[run]\nworkers = "many"\n', ["[run] workers", "many"]),
        ('[dedup]\ndoc-threshold = "x"\n', ["[dedup] doc-threshold", "'x'"]),
        ("[dedup]\nnum-perm = 4\n", ["[dedup] num-perm", "8<=x<=1024"]),
        ('[run]\nengine = "warp"\n', ["[run] engine", "warp"]),
        ('[strip-html]\nextract = "some"\n', ["[strip-html] extract"]),
        ("[normalize]\nno-such-option = 1\n", ["[normalize] no-such-option", "unknown key"]),
        ("run = 5\n", ["run must be a table"]),
        ("[normalize]\nnfkc = 1\n", ["[normalize] nfkc", "must be true or false, got 1"]),
        ('[run]\nworkers = "2"\n', ["[run] workers", "must be an integer, got '2'"]),
        ("[run]\nid-field = 5\n", ["[run] id-field", "must be a string, got 5"]),
        ("[strip-artifacts]\nrules-file = [1]\n", ["[strip-artifacts] rules-file", "got 1"]),
        ("[run]\nquiet = true\n", ["[run] quiet", "unknown key"]),
    ],
)
def test_config_error_is_one_line_naming_the_file(
    runner: CliRunner, tmp_path: Path, command: list[str], text: str, needles: list[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(text)
    args = [command[0], "--config", str(config), *command[1:]]
    result = runner.invoke(cli, args, input=RECORD)
    line = _one_error(result, str(config), *needles)
    assert result.stderr.strip() == line  # nothing else: no usage text for a file's error


@pytest.mark.parametrize("command", [["run"], ["pipe", "normalize"]])
def test_missing_config_file_is_one_line(
    runner: CliRunner, tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "nowhere.toml"
    args = [command[0], "--config", str(missing), *command[1:]]
    _one_error(runner.invoke(cli, args, input=RECORD), str(missing), "cannot read")


def test_pipe_reads_the_config_once(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cleanup.cli.run

    config = tmp_path / "c.toml"
    config.write_text("[normalize]\nkeep-typography = true\n")
    calls: list[str] = []
    real = cleanup.cli.run.load_config

    def counting(path: str | None) -> Any:
        calls.append(str(path))
        return real(path)

    monkeypatch.setattr(cleanup.cli.run, "load_config", counting)
    args = ["pipe", "--config", str(config), "strip-html", "dedup", "normalize"]
    result = runner.invoke(cli, args, input=json.dumps({"id": "a", "text": "“Hi” there."}))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["text"] == "“Hi” there."  # the config was applied
    assert calls == [str(config)]


# 2. Relative paths in a config file ----------------------------------------------------------


def test_config_paths_are_relative_to_the_config_file(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf, elsewhere = tmp_path / "conf", tmp_path / "elsewhere"
    conf.mkdir()
    elsewhere.mkdir()
    (conf / "rules.toml").write_text(
        '[[rule]]\nid = "zz-promo"\ndescription = "our promo line"\nmatch = "buy our zine today"\n'
    )
    (conf / "c.toml").write_text(
        '[run]\noutput = "clean.jsonl"\naudit = "audit.jsonl"\nrejects = "rejects.jsonl"\n'
        'report = "report.html"\nstats = "stats.json"\n'
        '[strip-artifacts]\nrules-file = "rules.toml"\n'
        '[dedup]\nstate = "state.sqlite"\n'
    )
    text = "The council met on Tuesday night to vote on the budget.\n\nBuy our zine today"
    docs = [{"id": "a", "text": text}, {"id": "b", "text": text}]
    (elsewhere / "in.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    monkeypatch.chdir(elsewhere)
    result = runner.invoke(cli, ["run", "in.jsonl", "--config", "../conf/c.toml", "-q"])
    assert result.exit_code == 0, result.output
    written = {p.name for p in conf.iterdir()}
    expected = {"clean.jsonl", "audit.jsonl", "rejects.jsonl", "report.html", "stats.json"}
    assert expected | {"state.sqlite"} <= written
    assert sorted(p.name for p in elsewhere.iterdir()) == ["in.jsonl"]
    out = [json.loads(line) for line in (conf / "clean.jsonl").read_text().splitlines()]
    assert [d["id"] for d in out] == ["a"]  # b is a duplicate, in conf/rejects.jsonl
    assert "zine" not in out[0]["text"]  # conf/rules.toml was found and applied
    # The command line still means the current directory.
    args = ["run", "in.jsonl", "--config", "../conf/c.toml", "-q", "-o", "here.jsonl"]
    assert runner.invoke(cli, [*args, "--force"]).exit_code == 0
    assert (elsewhere / "here.jsonl").exists()


# 2b. The same config from Python ------------------------------------------------------------


def _conf(folder: Path) -> Path:
    folder.mkdir()
    (folder / "rules.toml").write_text(
        '[[rule]]\nid = "zz-promo"\ndescription = "our promo line"\nmatch = "buy our zine today"\n'
    )
    (folder / "c.toml").write_text(
        '[run]\noutput = "clean.jsonl"\naudit = "audit.jsonl"\n'
        '[strip-artifacts]\nrules-file = "rules.toml"\n'
        '[dedup]\nstate = "state.sqlite"\n[normalize]\nkeep-typography = true\n'
    )
    return folder / "c.toml"


def test_config_from_python_runs_as_the_cli_does(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cleanup import execute, load_config

    text = "The council met on \u201cTuesday\u201d night to vote.\n\nBuy our zine today"
    docs = [{"id": "a", "text": text}, {"id": "b", "text": text}]
    inputs = tmp_path / "in.jsonl"
    inputs.write_text("".join(json.dumps(d) + "\n" for d in docs))
    by_cli, by_python = _conf(tmp_path / "cli"), _conf(tmp_path / "py")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["run", "in.jsonl", "--config", str(by_cli), "--workers", "1"])
    assert result.exit_code == 0, result.output
    config = load_config(by_python)
    assert config.section("run")["output"] == str(tmp_path / "py" / "clean.jsonl")
    summary = execute(config.run_options(["in.jsonl"]), config.calls())
    assert summary.documents_in == 2 and summary.documents_out == 1
    for name in ("clean.jsonl", "audit.jsonl"):
        assert (by_python.parent / name).read_bytes() == (by_cli.parent / name).read_bytes()
    out = json.loads((by_python.parent / "clean.jsonl").read_text())
    assert out["text"] == "The council met on \u201cTuesday\u201d night to vote."
    assert (by_python.parent / "state.sqlite").exists()
    # Keywords win over the file, as flags do; the pipeline takes the step sections.
    options = config.run_options(["in.jsonl"], output="-", audit=None)
    assert (options.output, options.audit, options.workers) == ("-", None, 1)
    doc = cleanup.Document.from_text("x", "\u201cHi\u201d")
    assert [d.text for d in config.pipeline(["normalize"]).run([doc])] == ["\u201cHi\u201d"]


def test_run_options_take_path_objects_and_refuse_a_string_of_inputs(tmp_path: Path) -> None:
    from cleanup import RunOptions, execute

    (tmp_path / "in.jsonl").write_text(RECORD)
    options = RunOptions(inputs=[tmp_path / "in.jsonl"], output=tmp_path / "out.jsonl")
    assert execute(options).documents_out == 1
    assert json.loads((tmp_path / "out.jsonl").read_text())["text"] == "Hello world."
    one_path: dict[str, Any] = {"inputs": str(tmp_path / "in.jsonl")}
    with pytest.raises(UsageProblem, match="inputs must be a list of paths"):
        RunOptions(**one_path)


def test_readme_python_api_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[
        readme.index("## Python API\n") : readme.index("\n## ", readme.index("## Python API\n") + 1)
    ]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    exec(compile("\n".join(blocks), "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert json.loads((tmp_path / "clean.jsonl").read_text())["text"] == "\u201cHello\u201d world."
    assert "--num-perm must be 8<=x<=1024, got 4" in printed


# 3. state prune ------------------------------------------------------------------------------


@pytest.fixture
def state(runner: CliRunner, tmp_path: Path) -> Path:
    path = tmp_path / "state.sqlite"
    docs = "".join(
        json.dumps({"id": str(i), "text": f"Document number {i} talks about topic {i * 7}."}) + "\n"
        for i in range(5)
    )
    result = runner.invoke(cli, ["run", "--state", str(path), "-q"], input=docs)
    assert result.exit_code == 0, result.output
    return path


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.mark.parametrize(
    "args",
    [
        ["--older-than", "-5"],
        ["--older-than", "nan"],
        ["--older-than", "inf"],
        ["--older-than", "-inf"],
        ["--keep-runs", "0"],
        ["--keep-runs", "-1"],
        ["--older-than", "1", "--keep-runs", "1"],
        [],
        ["--older-than", "1", "--wait", "-1"],
    ],
)
def test_prune_refuses_bad_limits_and_leaves_the_state(
    runner: CliRunner, state: Path, args: list[str]
) -> None:
    before = _digest(state.parent)
    result = runner.invoke(cli, ["state", "prune", str(state), *args])
    _one_error(result)
    assert _digest(state.parent) == before
    info = runner.invoke(cli, ["state", "info", str(state)])
    assert json.loads(info.stdout)["documents"] == 5


def test_prune_library_refuses_the_same(state: Path) -> None:
    from cleanup.dedup.state import prune_state

    for kwargs in (
        {"older_than_days": -5},
        {"older_than_days": math.nan},
        {"keep_runs": 0},
        {"older_than_days": 1, "keep_runs": 1},
    ):
        with pytest.raises(UsageProblem, match=r"older-than|keep-runs"):
            prune_state(str(state), **kwargs)
    assert prune_state(str(state), older_than_days=0.0) == 5  # in range: it prunes


# 4. Numeric ranges: command line, TOML and Python refuse the same values ---------------------


@pytest.mark.parametrize(("name", "value"), CASES)
def test_out_of_range_flag_is_one_line(runner: CliRunner, name: str, value: Any) -> None:
    for command in (["run"], ["pipe", STEP_OF[name]]):
        result = runner.invoke(cli, [*command, f"--{name}", _flag(value)], input=RECORD)
        _one_error(result, f"--{name}")


@pytest.mark.parametrize(("name", "value"), CASES)
def test_out_of_range_config_value_is_one_line(
    runner: CliRunner, tmp_path: Path, name: str, value: Any
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f"[{STEP_OF[name]}]\n{name} = {_toml(value)}\n")
    result = runner.invoke(cli, ["run", "--config", str(config)], input=RECORD)
    _one_error(result, str(config), f"[{STEP_OF[name]}] {name}")


@pytest.mark.parametrize(("name", "value"), CASES)
def test_out_of_range_keyword_raises_naming_the_option(name: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"--{name} "):
        Pipeline(**{name.replace("-", "_"): value})


def test_every_numeric_option_declares_a_range_and_is_covered() -> None:
    numeric = [o for s in all_specs() for o in s.options if o.type in (int, float)]
    assert {o.name for o in numeric} == set(BAD)
    assert all(o.range is not None for o in numeric)


@pytest.mark.parametrize(
    "args",
    [
        ["--workers", "-1"],
        ["--workers", "2.5"],
        ["--audit-detail", "most"],
        ["--engine", "warp"],
        ["--input-format", "docx"],
        ["--extract", "some"],
        ["--scope", "galaxy"],
        ["--cross-doc-paragraphs", "maybe"],
    ],
)
def test_bad_run_option_is_one_line(runner: CliRunner, args: list[str]) -> None:
    _one_error(runner.invoke(cli, ["run", *args], input=RECORD), args[0])


def test_boundary_values_run(runner: CliRunner) -> None:
    """Run with each option at its edges: a range that admits a value must let it work."""
    doc = "The council met on Tuesday night to vote on the new budget for schools.\n\n"
    records = "".join(json.dumps({"id": str(i), "text": doc * 3}) + "\n" for i in range(4))
    edges = [
        ["--boilerplate-min-docs", "2", "--num-perm", "8", "--minhash-seed", "4294967295"],
        ["--boilerplate-min-docs", "0", "--num-perm", "1024", "--minhash-seed", "0"],
        ["--doc-threshold", "1", "--paragraph-threshold", "1", "--min-paragraph-words", "0"],
        ["--paragraph-shingle-size", "8", "--doc-shingle-size", "1", "--block-max-lines", "0"],
        ["--block-max-words", "1", "--wait", "0", "--cross-doc-paragraphs", "near"],
    ]
    for args in edges:
        result = runner.invoke(cli, ["run", "-q", "--workers", "1", *args], input=records)
        assert result.exit_code == 0, (args, result.output)
        assert result.stdout.strip()


def test_boilerplate_min_docs_one_no_longer_drops_everything(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["run", "--boilerplate-min-docs", "1"], input=RECORD)
    _one_error(result, "--boilerplate-min-docs", "x=0 or x>=2")
    assert result.stdout == ""


NUMERIC = [o for s in all_specs() for o in s.options if o.type in (int, float)]
_VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(option=st.sampled_from(NUMERIC), value=_VALUES)
def test_cli_and_python_agree_and_refusals_are_one_line(option: Any, value: Any) -> None:
    flag = repr(value) if isinstance(value, float) else str(value)
    kind_ok = option.type is float or isinstance(value, int)
    in_range = kind_ok and math.isfinite(value) and option.range.contains(value)
    try:
        Pipeline(**{option.keyword: value})
        python_ok = True
    except ValueError as exc:
        assert f"--{option.name} " in str(exc)
        python_ok = False
    assert python_ok == in_range
    if in_range:
        return
    result = CliRunner().invoke(cli, ["run", f"--{option.name}", flag], input=RECORD)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert [line for line in result.stderr.splitlines() if line.startswith("Error:")]


def test_help_shows_the_ranges(runner: CliRunner) -> None:
    text = " ".join(runner.invoke(cli, ["run", "--help"], terminal_width=200).stdout.split())
    for needle in ("0<=x<=4294967295", "x=0 or x>=2", "0<x<=1", "1<=x<=8", "8<=x<=1024"):
        assert needle in text


# 5. Closed standard input --------------------------------------------------------------------


def _closed_stdin(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cleanup", *args],
        preexec_fn=lambda: os.close(0),  # the point: start with fd 0 closed
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize("args", [["run"], ["run", "-"], ["pipe", "normalize"]])
def test_closed_stdin_is_one_line(tmp_path: Path, args: list[str]) -> None:
    proc = _closed_stdin(args, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        "Error: no input: standard input is closed (give INPUT files or pipe data in)"
    )


def test_closed_stdin_with_input_files_runs(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text(RECORD)
    proc = _closed_stdin(["run", "in.jsonl", "-q"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["text"] == "Hello world."
