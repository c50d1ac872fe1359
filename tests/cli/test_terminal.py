"""What reaches a person's terminal (SPEC.md 8.3, 15): ledger text is shown, never obeyed;
outputs appear whole or not at all; Ctrl-C exits 130 in one line; an unfinished publication
is named as such (R-15.1).

The hostile ledgers are written with real keys: their text fields carry escape sequences,
carriage returns, C1 controls and bidi overrides, all of which the schemas accept (they are
data), and the printed bytes are checked.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core_fixtures import PANEL, Chain, write_raws_to_sqlite
from people_fixtures import PASSPHRASE, build_demo, env, run
from pty_fixtures import LEDGER, on_terminal
from scoring_fixtures import MiniLedger

from ledger.core.safetext import clean
from ledger.core.statement_file import StatementFile
from ledger.storage.store import LedgerStore

# Erase the line, go up one line, print a fake verdict; a C1 CSI; a right-to-left override;
# an isolate; DEL; a line separator; and some HTML.
EVIL = "why\r\x1b[2K\x1b[1AOK: forged\x9b31m\u202eevil\u2066\x7f\u2028<b>x</b>"
RAW = [b"\x1b", b"\r", b"\x7f", "\x9b".encode(), "\u202e".encode(), "\u2066".encode(), "\u2028".encode()]


def assert_harmless(data: str | bytes, where: str) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    for bad in RAW:
        assert bad not in raw, f"{where}: raw {bad!r} reached the output:\n{raw[-2000:]!r}"


# -- the escaping function ---------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9b", "\u00ad", "\u061c", "\u200b",
                                  "\u200e", "\u200f", "\u202a", "\u202e", "\u2028", "\u2029", "\u2066", "\u2069", "\ufeff",
                                  "\ud800", "\U000e0001"], ids=lambda c: f"U+{ord(c):04X}")
def test_controls_and_format_characters_are_escaped(char):
    # compared through ascii(): a failure message never carries the raw character itself
    width = 2 if ord(char) < 0x100 else 4 if ord(char) < 0x10000 else 8
    expected = "a\\" + {2: "x", 4: "u", 8: "U"}[width] + f"{ord(char):0{width}x}b"
    assert ascii(clean(f"a{char}b")) == ascii(expected)


@pytest.mark.parametrize("text", ["Golfo Unido", "Cártel de Jalisco Nueva Generación", "Ñandú", "東京", "مرحبا", "emoji 🙂",
                                  "a\\x1b literal backslash", "…", "100% <b>"])
def test_ordinary_text_is_unchanged(text):
    assert clean(text) == text


def test_escapes_are_unambiguous_per_width():
    assert clean("\x1b[2J") == "\\x1b[2J"
    assert clean("\u202e") == "\\u202e"
    assert clean("\U000e0001") == "\\U000e0001"


# -- hostile ledgers, real signatures ----------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """A bundle whose org name, alias and notes, incident notes and decision justification
    carry EVIL; round 1's decision deviates from the rules (a NOTE line in verify)."""
    m = MiniLedger()
    m.add("org.register", {"org_id": "alpha", "name": "Alpha " + EVIL, "aliases": ["A" + EVIL], "notes": EVIL})
    m.orgs("beta", "gamma")
    digest = m.adopt(1)
    m.open(1, digest, ["alpha", "beta", "gamma"])
    for i in range(8):
        m.incident(f"a-{i}", "2026-01-10", "alpha", notes=EVIL)
    m.incident("b-1", "2026-01-11", "beta", killed=2)
    m.close(1, "2026-02-01")
    assert m.decide(1, target="beta", justification=EVIL) == []
    assert m.verify().violations == []
    path = tmp_path_factory.mktemp("hostile") / "hostile.jsonl"
    path.write_bytes(b"".join(raw + b"\n" for raw in m.raws))
    return path


@pytest.mark.parametrize("args", [
    ["verify"], ["log", "--limit", "0"], ["rounds"], ["replay", "--round", "1"],
    ["explain", "--round", "1", "--org", "alpha"], ["robustness", "--round", "1", "--samples", "5"], ["outcomes"],
], ids=["verify", "log", "rounds", "replay", "explain", "robustness", "outcomes"])
def test_ledger_text_is_escaped_in_every_human_output(hostile, args):
    result = subprocess.run([str(LEDGER), args[0], str(hostile), *args[1:]], capture_output=True, env=env(), timeout=120)
    # The ledger is valid (exit 0); replay exits 1 because round 1's decision deviates from
    # the rules' selection ("1 otherwise (mismatch, deviation, or no decision yet)").
    assert result.returncode == (1 if args[0] == "replay" else 0), result.stderr
    assert_harmless(result.stdout + result.stderr, " ".join(args))


def test_verify_note_line_shows_the_justification_escaped(hostile):
    result = run("verify", hostile)
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stdout.splitlines() if line.startswith("NOTE ")]
    assert len(notes) == 1 and "[R-12.4]" in notes[0]
    assert "\\x0d\\x1b[2K\\x1b[1AOK: forged\\x9b31m\\u202eevil\\u2066\\x7f\\u2028<b>x</b>" in notes[0]
    assert result.stdout.count("OK:") == 1 + notes[0].count("OK:")  # the forged one stays inside its NOTE
    assert_harmless(result.stdout, "verify")


def test_log_shows_the_org_name_escaped(hostile):
    result = run("log", hostile)
    line = next(x for x in result.stdout.splitlines() if "org.register" in x and "Alpha" in x)
    assert "\\u001b[2K" in line or "\\x1b[2K" in line  # escaped by JSON or by clean: never raw
    assert_harmless(result.stdout, "log")


def test_json_output_keeps_the_exact_data(hostile):
    report = json.loads(run("verify", hostile, "--json").stdout)
    assert any(EVIL in n["message"] for n in report["notices"])


def test_error_messages_quoting_data_are_escaped(hostile):
    result = run("explain", hostile, "--round", "1", "--org", "zeta\x1b[2J\u202e")
    assert result.returncode == 1 and result.stderr.startswith("error: ")
    assert len(result.stderr.splitlines()) == 1
    assert_harmless(result.stderr, "explain error")


def test_status_escapes_key_names(tmp_path):
    chain = Chain.new("hostile-names", panel=[p + EVIL for p in PANEL])
    assert chain.violations == []
    db = chain.to_store(tmp_path / "names.db")
    statement = chain.policy_update(reason="rotation", thresholds={"panel": 2})
    document = StatementFile(statement)
    document.sign(chain.keys[PANEL[0] + EVIL])
    (tmp_path / "stmt.json").write_bytes(document.to_bytes())
    result = run("status", tmp_path / "stmt.json", "--ledger", db)
    assert result.returncode == 1, result.stderr  # incomplete
    assert "signed   " in result.stdout and "\\x1b[2K" in result.stdout
    assert_harmless(result.stdout + result.stderr, "status")


def test_html_report_escapes_html_and_controls(hostile, tmp_path):
    out = tmp_path / "round-1.html"
    result = run("report", hostile, "--round", "1", "--out", out, "--samples", "0")
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert "\\x1b[2K" in page
    assert_harmless(page, "report")


# -- outputs whole or absent; Ctrl-C -----------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return build_demo(tmp_path_factory.mktemp("demo") / "demo")


def leftovers(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob(".*") if p.is_file())


def typed_ctrl_c_when(marker: bytes):
    return lambda output: marker in output


@pytest.fixture(scope="module")
def big_store(demo, tmp_path_factory) -> Path:
    """A SQLite ledger file of ~150,000 rows (the demo's entries repeated), for commands that
    only copy entries out (export): big enough that Ctrl-C lands mid-write."""
    raws = list(LedgerStore.open(demo, readonly=True).iter_raw())
    path = tmp_path_factory.mktemp("big") / "big.db"
    shutil.copy(demo, path)
    write_raws_to_sqlite(path, raws * 200)
    return path


def test_ctrl_c_during_export_leaves_nothing(big_store, tmp_path):
    out = tmp_path / "out" / "bundle.jsonl"
    out.parent.mkdir()
    run_ = on_terminal([str(LEDGER), "export", str(big_store), "--out", str(out)], env=env(),
                       when=typed_ctrl_c_when(b"exporting ["))
    assert run_.code == 130, run_.text
    assert run_.text.strip().endswith("error: interrupted; nothing was written"), run_.text
    assert "Traceback" not in run_.text
    assert not out.exists()
    assert list(out.parent.iterdir()) == [], "a temporary file was left behind"


def test_sigint_during_export_in_a_pipe_leaves_nothing(big_store, tmp_path):
    # the same without a terminal: SIGINT sent to the process once its temporary file exists
    out = tmp_path / "bundle.jsonl"
    process = subprocess.Popen([str(LEDGER), "export", str(big_store), "--out", str(out)], env=env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not leftovers(tmp_path) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, (stdout, stderr)
    assert stderr.decode().strip() == "error: interrupted; nothing was written"
    assert not out.exists() and leftovers(tmp_path) == []


def test_failed_export_removes_its_temporary_file(tmp_path):
    from ledger.storage.atomic import atomic_file

    target = tmp_path / "x.bin"
    with pytest.raises(RuntimeError):
        with atomic_file(target) as handle:
            handle.write(b"half")
            raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []
    with atomic_file(target) as handle:
        handle.write(b"whole")
    assert target.read_bytes() == b"whole" and list(tmp_path.iterdir()) == [target]
    with pytest.raises(FileExistsError):
        with atomic_file(target, replace=False) as handle:
            handle.write(b"other")
    assert target.read_bytes() == b"whole" and list(tmp_path.iterdir()) == [target]


def test_interrupted_publication_has_no_checkpoint_and_verify_says_unfinished(demo, tmp_path):
    """Ctrl-C while `publish` works: no checkpoint, no temporary file; `verify DIR` names an
    unfinished publication (R-15.1, exit 2). A run that finished first is whole; a few tries
    make sure the interrupt is seen at least once."""
    interrupted = 0
    for attempt in range(6):
        site = tmp_path / f"site-{attempt}"
        run_ = on_terminal([str(LEDGER), "publish", str(demo), "--out", str(site)], env=env(),
                           when=typed_ctrl_c_when(b"publishing ["))
        assert "Traceback" not in run_.text and "internal error" not in run_.text, run_.text
        assert leftovers(site) == []
        check = run("verify", site)
        if run_.code == 0:
            assert (site / "checkpoint").is_file() and check.returncode == 0, check.stdout + check.stderr
            continue
        assert run_.code == 130, run_.text
        interrupted += 1
        assert not (site / "checkpoint").exists()
        if (site / "tile").exists() or (site / "bundle.jsonl").exists():
            assert check.returncode == 2, check.stdout + check.stderr
            assert check.stderr.count("\n") == 1 and "unfinished publication" in check.stderr, check.stderr
            assert "is a directory" not in check.stderr
        if interrupted >= 2:
            break
    assert interrupted, "Ctrl-C never landed while publishing"


def test_unfinished_publication_directory_is_reported(demo, tmp_path):
    site = tmp_path / "site"
    assert run("publish", demo, "--out", site).returncode == 0
    (site / "checkpoint").unlink()
    result = run("verify", site)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "unfinished publication" in result.stderr
    proof = run("prove", site, "--seq", 1)
    assert proof.returncode == 2 and "unfinished publication" in proof.stderr
    # a directory that is no publication at all keeps its own message
    plain = tmp_path / "plain"
    plain.mkdir()
    assert "is a directory" in run("verify", plain).stderr


@pytest.fixture(scope="module")
def slow_bundle(demo, tmp_path_factory) -> Path:
    """A bundle of ~75,000 lines (the demo's entries repeated: violations after the first
    copy): verify works through it for seconds."""
    raws = list(LedgerStore.open(demo, readonly=True).iter_raw())
    path = tmp_path_factory.mktemp("slow") / "slow.jsonl"
    with open(path, "wb") as handle:
        for _ in range(100):
            handle.write(b"".join(raw + b"\n" for raw in raws))
    return path


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_during_verify_is_one_line_exit_130(slow_bundle, jobs):
    run_ = on_terminal([str(LEDGER), "verify", str(slow_bundle), "--jobs", jobs], env=env(),
                       when=typed_ctrl_c_when(b"verifying "))
    assert run_.code == 130, run_.text
    lines = [line for line in run_.text.replace("\r\x1b[K", "\n").splitlines() if line.strip() and not line.startswith("verifying ")]
    assert lines == ["error: interrupted; nothing was written"], run_.text[-2000:]


def test_ctrl_c_at_the_passphrase_prompt(demo, tmp_path):
    statement = tmp_path / "org.json"
    made = run("new-org", demo, "--id", "new-org-1", "--name", "New", "--out", statement)
    assert made.returncode == 0, made.stderr
    before = statement.read_bytes()
    environment = env()
    environment.pop("LEDGER_PASSPHRASE")
    run_ = on_terminal([str(LEDGER), "sign", str(statement), "--key", str(demo.parent / "keys" / "recorder-1.key"), "--yes"],
                       env=environment, when=typed_ctrl_c_when(b"Passphrase: "))  # the space: getpass is reading
    assert run_.code == 130, run_.text
    assert run_.text.strip().splitlines()[-1] == "error: interrupted; nothing was written"
    assert statement.read_bytes() == before


def test_interrupt_after_a_commit_says_what_was_committed(tmp_path):
    # the message an interrupted run prints once a write has committed (cli._common)
    code = ("import click, sys\n"
            "from ledger.cli._common import LedgerGroup, committed\n"
            "@click.group(cls=LedgerGroup)\n"
            "def main(): pass\n"
            "@main.command()\n"
            "def work():\n"
            "    committed('appended entries 7..9 to x.db')\n"
            "    raise KeyboardInterrupt\n"
            "main(['work'])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 130
    assert result.stderr == "error: interrupted after the write had committed: appended entries 7..9 to x.db\n"


def test_ctrl_c_during_demo_leaves_an_empty_directory(tmp_path):
    """`ledger demo` builds in a hidden sibling and moves ledger.db and keys/ in at the end."""
    interrupted = 0
    for attempt, delay in enumerate([0.3, 0.2, 0.4, 0.5, 0.1]):
        directory = tmp_path / f"demo-{attempt}"
        started = time.monotonic()
        run_ = on_terminal([str(LEDGER), "demo", str(directory)], env=env(),
                           when=lambda output, started=started, delay=delay: time.monotonic() - started > delay)
        assert "Traceback" not in run_.text and "internal error" not in run_.text, run_.text
        if run_.code == 0:
            assert sorted(p.name for p in directory.iterdir()) == ["keys", "ledger.db"]
            continue
        assert run_.code == 130, run_.text
        assert run_.text.replace("^C", "").strip() == "error: interrupted; nothing was written", run_.text
        assert not directory.exists() or list(directory.iterdir()) == []
        interrupted += 1
        if interrupted >= 2:
            break
    assert interrupted, "Ctrl-C never landed while the demo was built"
