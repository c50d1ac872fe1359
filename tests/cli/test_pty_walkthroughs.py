"""The README's commands, `bin/demo`'s steps and every walkthrough, run ON A TERMINAL as
people run them (a pseudo-terminal: progress shown, prompts possible), not through pipes.

Each ``ledger`` command must exit 0, 1 or 2 (SPEC.md 8.2), and nothing on the terminal may
read "internal error" or "Traceback". Pipes hide terminal-only code paths: before this
harness, the README's first command died on a terminal with exit 3.

Also: progress reaches the terminal (stderr) while `--json` stdout stays exactly the bytes a
pipe gets (SPEC.md 8.3).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from people_fixtures import EXAMPLES, ROOT, build_demo, env
from pty_fixtures import LEDGER, exit_logging_path, judge, logged_exits, on_terminal
from test_walkthroughs import WALKTHROUGHS, blocks

PROGRESS = b"\r\x1b[K"  # how a progress line is drawn and erased (cli/_terminal.py)


def shell_on_terminal(script: str, cwd: Path, **extra: str):
    """Run ``script`` in bash on a terminal with every ``ledger`` run's exit code logged."""
    log = cwd / ".exits.log"
    environment = env(**extra)
    environment["PATH"] = exit_logging_path(cwd / ".wrap", log) + os.pathsep + environment["PATH"]
    run = on_terminal(["bash", "-c", script], cwd=cwd, env=environment, timeout=900)
    return run, logged_exits(log)


@pytest.mark.parametrize("walkthrough", WALKTHROUGHS, ids=[p.stem for p in WALKTHROUGHS])
def test_walkthrough_on_a_terminal(walkthrough: Path, tmp_path: Path):
    (tmp_path / "examples").symlink_to(EXAMPLES, target_is_directory=True)
    script = "set -euo pipefail\n" + "\n".join(blocks(walkthrough))
    run, exits = shell_on_terminal(script, tmp_path)
    judge(run, exits, walkthrough.name)
    assert run.code == 0, f"{walkthrough.name} failed on a terminal (exit {run.code}):\n{run.text[-4000:]}"
    assert len(exits) >= 5, exits
    assert PROGRESS in run.output, "no progress was shown on the terminal"


def readme_commands() -> list[str]:
    """Every ``ledger`` line of the README's indented command blocks, comments removed; the
    VKEY placeholder becomes the demo's real log key."""
    commands = []
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("    ledger "):
            command = re.split(r"\s{2,}#", line.strip(), maxsplit=1)[0].strip()
            commands.append(command.replace("VKEY", '"$(ledger checkpoint ./demo/ledger.db --log-key | head -1)"'))
    return commands


def test_readme_commands_on_a_terminal(tmp_path: Path):
    commands = readme_commands()
    assert commands[0] == "ledger demo ./demo" and len(commands) >= 20, commands
    run, exits = shell_on_terminal("\n".join(commands), tmp_path)
    judge(run, exits, "README.md")
    assert len(exits) >= len(commands)
    # the commands on the demo (and on what they made of it) work; the others name files
    # the reader has to make (body.json, stmt.json, ...): they may say so, with exit 2
    must_work = [(code, args) for code, args in exits if args.split()[1:2] and args.split()[1].startswith(("./demo", "site/"))]
    assert len(must_work) >= 12 and all(code == 0 for code, _ in must_work), must_work
    assert PROGRESS in run.output


def test_bin_demo_steps_on_a_terminal(tmp_path: Path):
    """bin/demo's ledger commands, as the script runs them (the venv set-up is bin/test's)."""
    steps = re.findall(r'^\s*"\$VENV/bin/ledger" (.+)$', (ROOT / "bin" / "demo").read_text(encoding="utf-8"), flags=re.M)
    assert len(steps) >= 3, steps
    script = 'DIR="$PWD/demo"\n' + "\n".join(f"ledger {step}" for step in steps)
    run, exits = shell_on_terminal(script, tmp_path)
    judge(run, exits, "bin/demo")
    assert [code for code, _ in exits] == [0] * len(steps), exits
    assert "OK:" in run.text and "MATCHES the decision" in run.text


# -- progress on the terminal, --json stdout untouched ---------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return build_demo(tmp_path_factory.mktemp("pty-demo") / "demo")


JSON_COMMANDS = [
    ["verify", "{db}", "--json"],
    ["verify", "{bundle}", "--json"],
    ["rounds", "{db}", "--json"],
    ["replay", "{db}", "--round", "1", "--json"],
    ["explain", "{db}", "--round", "1", "--org", "halcones-del-norte", "--json"],
    ["robustness", "{db}", "--round", "1", "--samples", "50", "--json"],
    ["outcomes", "{db}", "--json"],
    ["log", "{db}", "--json", "--limit", "5"],
]


@pytest.fixture(scope="module")
def bundle(demo: Path) -> Path:
    path = demo.parent / "ledger.jsonl"
    subprocess.run([str(LEDGER), "export", str(demo), "--out", str(path)], check=True, capture_output=True, env=env())
    return path


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=lambda a: "-".join(x for x in a if not x.startswith("{"))[:40])
def test_progress_on_the_terminal_json_stdout_clean(demo: Path, bundle: Path, tmp_path: Path, args):
    argv = [a.format(db=demo, bundle=bundle) for a in args]
    piped = subprocess.run([str(LEDGER), *argv], capture_output=True, env=env(), timeout=300)
    # outcomes --json prints the ledger's notices on stderr (SPEC.md 12.12): nothing else
    notes = b"".join(line + b"\n" for line in piped.stderr.splitlines() if line.startswith(b"NOTE "))
    assert piped.returncode == 0 and piped.stderr == notes and (args[0] == "outcomes") == bool(notes), piped.stderr
    out = tmp_path / "stdout.json"
    run = on_terminal(["bash", "-c", f"{shlex.quote(str(LEDGER))} {shlex.join(argv)} > {shlex.quote(str(out))}"], env=env())
    assert run.code == 0, run.text
    assert out.read_bytes() == piped.stdout  # byte for byte what a pipe gets: no progress inside
    if args[0] != "log":  # log reads 5 entries: nothing to show progress for
        assert PROGRESS in run.output, run.output  # stderr was the terminal: progress shown there
    shown = run.output.replace(notes.replace(b"\n", b"\r\n"), b"")  # the notes, as the terminal wrote them
    assert shown.endswith(PROGRESS) or shown == b"", run.output[-200:]  # and erased


def test_no_progress_when_stderr_is_not_a_terminal(demo: Path, tmp_path: Path):
    err = tmp_path / "stderr.txt"
    run = on_terminal(["bash", "-c", f"{shlex.quote(str(LEDGER))} verify {shlex.quote(str(demo))} 2> {shlex.quote(str(err))}"], env=env())
    assert run.code == 0 and "OK:" in run.text
    assert PROGRESS not in run.output and err.read_bytes() == b""
