"""Offline signing as a panel does it (issue 15): one check everywhere (creation, sign,
status, append run the verifier's own rules), parallel signatures merged by `ledger combine`,
`sign` showing what is signed, `log --tail` with names, any locale. Through the real CLI in
subprocesses, on the demo ledger; the preview is also compared with the verifier itself."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from core_fixtures import file_state, openssh_kdf_rounds, run_ledger
from ledger.core import canonical
from ledger.storage.keyfiles import read_private_key_file
from ledger.core.model import Statement, seal_entry
from ledger.app.load import open_ledger
from ledger.app.preflight import check
from ledger.scoring import authoring as A
from ledger.core.statement_file import SignatureFile, StatementFile, combine
from ledger.core.validation import validate
from people_fixtures import LEDGER, PASSPHRASE, env

HEX = "ab" * 32


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The demo ledger (rounds 1-3 decided), its bundle and its published directory."""
    d = tmp_path_factory.mktemp("signing")
    assert run_ledger("demo", d / "d", env=env()).returncode == 0
    assert run_ledger("export", d / "d" / "ledger.db", "--out", d / "ledger.jsonl", env=env()).returncode == 0
    assert run_ledger("publish", d / "d" / "ledger.db", "--out", d / "site", env=env()).returncode == 0
    return d


@pytest.fixture()
def w(demo: Path, tmp_path: Path) -> Path:
    """A private copy of the demo directory (ledger and keys) for tests that append."""
    shutil.copytree(demo / "d", tmp_path / "d")
    return tmp_path


def ledger(cwd: Path, *args: object, **extra: str) -> subprocess.CompletedProcess[str]:
    return run_ledger(*map(str, args), cwd=cwd, env=env(**extra))


def refused(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    return lines[0]


def key(demo_dir: Path, name: str):
    return read_private_key_file(demo_dir / "d" / "keys" / f"{name}.key", PASSPHRASE.encode())


def write_statement(path: Path, statement: Statement, *signers) -> Path:
    document = StatementFile(statement)
    for signer in signers:
        document.sign(signer)
    path.write_bytes(document.to_bytes())
    return path


def demo_id(demo: Path) -> str:
    return open_ledger(demo / "d" / "ledger.db").ledger_id


SOURCES = [A.source("reforma", "national", "2027-03-03", HEX), A.source("radio", "local", "2027-03-03", HEX)]


def bad_incident(ledger_id: str) -> Statement:
    """R-10.13 (2026-02-30) and R-10.7 (an unregistered organization) at once."""
    body = A.incident("mx-bad", "2026-02-30", "killing", victims=[A.victim("ordinary_citizen", 1)],
                      attributions=[A.attribution("nobody-registered")], sources=SOURCES)
    return Statement.build("incident.record", body, "2027-03-04T10:00:00Z", ledger_id)


# -- one check everywhere: creation --------------------------------------------------------------

INCIDENT = ["--state", "MX-GRO", "--kind", "killing", "--victim", "ordinary_citizen=1",
            "--source", f"reforma:national:2027-03-03:{HEX}", "--source", f"radio:local:2027-03-03:{HEX}"]

CREATION_CASES = {
    "calendar-date": (["new-incident", "d/ledger.db", "--id", "x1", "--date", "2026-02-30", "--attr", "golfo-unido", *INCIDENT], "[R-10.13]"),
    "unregistered-org": (["new-incident", "d/ledger.db", "--id", "x2", "--date", "2027-03-02", "--attr", "nobody-registered", *INCIDENT], "[R-10.7]"),
    "closed-round": (["close-round", "d/ledger.db", "--round", "3", "--at", "2027-03-01T00:00:00Z"], "round 3 was already closed at entry"),
    "decided-round": (["decide", "d/ledger.db", "--round", "3"], "[R-11.9]"),
    "bad-origin": (["genesis", "--origin", "bad origin with spaces", "--name", "x", "--panel", "d/keys/panel-1.pub",
                    "--panel-threshold", "1", "--recorder", "d/keys/recorder-1.pub", "--operator", "d/keys/operator.pub"],
                   'origin: "bad origin with spaces" does not match'),
    "key-twice": (["genesis", "--origin", "ok.example/x", "--name", "x", "--panel", "d/keys/panel-1.pub", "--panel",
                   "d/keys/panel-1.pub", "--panel-threshold", "2", "--recorder", "d/keys/recorder-1.pub", "--operator",
                   "d/keys/operator.pub"], "key Panel member 1 ("),
}


@pytest.mark.parametrize("case", list(CREATION_CASES))
def test_creation_refuses_what_append_would_refuse(demo: Path, case: str) -> None:
    args, expected = CREATION_CASES[case]
    before = file_state(demo / "d" / "ledger.db")
    line = refused(ledger(demo, *args, "--out", "never.json"))
    assert expected in line, line
    assert not (demo / "never.json").exists()
    assert file_state(demo / "d" / "ledger.db") == before


def test_new_from_a_body_file_is_checked_against_the_ledger(demo: Path, tmp_path: Path) -> None:
    body = bad_incident(demo_id(demo)).body
    (tmp_path / "body.json").write_bytes(canonical.encode(body))
    line = refused(ledger(demo, "new", "incident.record", "--body", tmp_path / "body.json", "--ledger", "d/ledger.db",
                          "--out", tmp_path / "never.json"))
    assert "[R-10.13]" in line and "[R-10.7]" in line
    # with only --ledger-id (no ledger at hand) the schema is all that can be checked
    assert ledger(demo, "new", "incident.record", "--body", tmp_path / "body.json", "--ledger-id", demo_id(demo),
                  "--out", tmp_path / "unchecked.json").returncode == 0


# -- status: every failure, before anyone signs; waiting is not a failure -----------------------

def test_status_lists_every_failure_before_anyone_signs(demo: Path, tmp_path: Path) -> None:
    file = write_statement(tmp_path / "bad.json", bad_incident(demo_id(demo)))
    result = ledger(demo, "status", file, "--ledger", "d/ledger.db", "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 1 and not report["ready"]
    assert sorted(f["rule"] for f in report["failures"]) == ["R-10.13", "R-10.7"]
    assert report["waiting"] == ["waiting for 1 more of role recorder (0 signed, 1 required: not yet met)"]
    text = ledger(demo, "status", file, "--ledger", "d/ledger.db").stdout
    assert "FAIL incident.date '2026-02-30' is not a calendar date [R-10.13]" in text and "REFUSED" in text


def test_stray_signature_and_content_are_both_reported(demo: Path, tmp_path: Path) -> None:
    """A recorder's signature on a panel statement (R-7.12) does not hide the scoring state
    (R-11.7): the scoring rules run even when a core rule fails."""
    statement = Statement.build("round.close", {"round": 3}, "2027-03-01T00:00:00Z", demo_id(demo))
    file = write_statement(tmp_path / "close.json", statement, key(demo, "panel-1"), key(demo, "recorder-1"))
    report = json.loads(ledger(demo, "status", file, "--ledger", "d/ledger.db", "--json").stdout)
    assert sorted(f["rule"] for f in report["failures"]) == ["R-11.7", "R-7.12"]
    assert report["waiting"] == ["waiting for 2 more of role panel (1 signed, 3 required: not yet met)"]
    text = ledger(demo, "status", file, "--ledger", "d/ledger.db").stdout
    assert "also signed by Data steward 1" in text and "not a panel key: not counted" in text


def test_preview_is_the_verifier_itself(demo: Path) -> None:
    """For a fully signed statement, the preflight's failures are exactly what the verifier
    reports when the sealed entry is fed to it (the seal aside): one implementation."""
    view = open_ledger(demo / "d" / "ledger.db")
    signers = [key(demo, k) for k in ("panel-1", "panel-3", "panel-6", "recorder-1")]
    cases = [
        (bad_incident(view.ledger_id), [key(demo, "recorder-1")]),
        (Statement.build("round.close", {"round": 3}, "2027-03-01T00:00:00Z", view.ledger_id), signers),
        (Statement.build("org.register", A.org_register("golfo-unido", "Again"), "2027-03-01T00:00:00Z", view.ledger_id),
         [key(demo, "recorder-1")]),
        (Statement.build("org.register", A.org_register("fresh-org", "New"), "2027-03-01T00:00:00Z", "cd" * 32),
         [key(demo, "recorder-1")]),
    ]
    for statement, keys in cases + [(cases[1][0], signers[:3])]:
        document = StatementFile(statement)
        for k in keys:
            document.sign(k)
        expected_before = (view.verifier.size, view.verifier.head)
        preview = check(document, view)
        assert (view.verifier.size, view.verifier.head) == expected_before  # nothing changed
        entry = seal_entry(view.verifier.size, view.verifier.head.hex(), statement, tuple(document.signature_list()),
                           key(demo, "operator"))
        _, fed = view.verifier.check(entry.raw)
        assert preview.failures, statement.type
        found = [(v.rule, v.message) for v in preview.failures]
        core = [f for f in found if f[0].startswith("R-7.")]
        # the verifier judges scoring rules only after the core rules pass; the preview
        # lists both at once (the stray-signature case), otherwise the lists are equal
        assert (core or found) == [(v.rule, v.message) for v in fed]


def test_status_reads_a_bundle_and_a_published_directory(demo: Path, tmp_path: Path) -> None:
    statement = Statement.build("round.close", {"round": 3}, "2027-03-01T00:00:00Z", demo_id(demo))
    file = write_statement(tmp_path / "close.json", statement, key(demo, "panel-1"))
    outputs = []
    for location in ("d/ledger.db", "ledger.jsonl", "site"):
        result = ledger(demo, "status", file, "--ledger", location, "--json")
        assert result.returncode == 1, result.stderr
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1] == outputs[2]
    assert [f["rule"] for f in outputs[0]["failures"]] == ["R-11.7"]
    assert "Panel member 1" in ledger(demo, "status", file, "--ledger", "site").stdout


# -- sign: shows what is signed, checks, never hangs ------------------------------------------

def test_sign_shows_the_decision_and_refuses_a_key_without_the_role(w: Path) -> None:
    assert ledger(w, "adopt-rules", "d/ledger.db", "--name", "v4", "--at", "2027-03-02T10:00:00Z", "--out", "adopt.json").returncode == 0
    for k in ("panel-1", "panel-3", "panel-6"):
        assert ledger(w, "sign", "adopt.json", "--key", f"d/keys/{k}.key").returncode == 0
    assert ledger(w, "append", "d/ledger.db", "adopt.json", "--operator-key", "d/keys/operator.key").returncode == 0
    assert ledger(w, "open-round", "d/ledger.db", "--start", "2027-03-08", "--end", "2027-04-18", "--decision-date",
                  "2027-04-26", "--at", "2027-03-05T10:00:00Z", "--out", "open.json").returncode == 0
    before = (w / "open.json").read_bytes()
    # stdin is not a terminal (run_ledger): no question, and a stray role is refused at signing
    line = refused(ledger(w, "sign", "open.json", "--key", "d/keys/recorder-1.key", "--ledger", "d/ledger.db"))
    assert "[R-7.12]" in line and (w / "open.json").read_bytes() == before
    signed = ledger(w, "sign", "open.json", "--key", "d/keys/panel-1.key", "--ledger", "d/ledger.db")
    assert signed.returncode == 0, signed.stderr
    out = signed.stdout
    assert "Demo: violence scoring ledger" in out and "type:              round.open" in out
    assert "round:             5" in out and "rules:             version 5 (" in out and "window:" in out
    assert "signed open.json as Panel member 1" in out and "waiting for 2 more of role panel" in out


def test_sign_refuses_what_append_would_refuse_before_asking_for_the_key(demo: Path, tmp_path: Path) -> None:
    statement = Statement.build("round.close", {"round": 3}, "2027-03-01T00:00:00Z", demo_id(demo))
    file = write_statement(tmp_path / "close.json", statement)
    before = file.read_bytes()
    line = refused(ledger(demo, "sign", file, "--key", "d/keys/panel-1.key", "--ledger", "ledger.jsonl",
                          LEDGER_PASSPHRASE="wrong passphrase"))
    assert "[R-11.7]" in line and "passphrase" not in line
    assert file.read_bytes() == before


def test_sign_output_signature_leaves_the_statement_alone(demo: Path, tmp_path: Path) -> None:
    file = write_statement(tmp_path / "org.json", Statement.build("org.register", A.org_register("fresh", "Fresh"),
                                                                  "2027-03-01T00:00:00Z", demo_id(demo)))
    before = file.read_bytes()
    result = ledger(demo, "sign", file, "--key", "d/keys/recorder-1.key", "--output-signature", tmp_path / "r.sig", "--yes")
    assert result.returncode == 0, result.stderr
    assert file.read_bytes() == before
    data = (tmp_path / "r.sig").read_bytes()
    obj = canonical.parse_canonical(data[:-1])
    validate("urn:violence-scoring-ledger:v1:signature-file", obj)
    assert obj["statement_digest"] == StatementFile.parse(before).statement.digest.hex()
    refused(ledger(demo, "sign", file, "--key", "d/keys/recorder-1.key", "--output-signature", tmp_path / "r.sig"), 2)


# -- combine: parallel copies and signature files ---------------------------------------------

def _parallel_copies(w: Path) -> list[Path]:
    assert ledger(w, "adopt-rules", "d/ledger.db", "--name", "v4", "--at", "2027-03-02T10:00:00Z", "--out", "adopt.json").returncode == 0
    copies = []
    for k in ("panel-1", "panel-3", "panel-6"):
        (w / k).mkdir()
        shutil.copyfile(w / "adopt.json", w / k / "adopt.json")
        assert ledger(w / k, "sign", "adopt.json", "--key", f"../d/keys/{k}.key").returncode == 0
        copies.append(w / k / "adopt.json")
    return copies


def test_combine_merges_parallel_copies_and_append_takes_the_result(w: Path) -> None:
    copies = _parallel_copies(w)
    # appending the copies themselves is refused, pointing at combine
    line = refused(ledger(w, "append", "d/ledger.db", *copies, "--operator-key", "d/keys/operator.key"))
    assert "hold the same statement" in line and "ledger combine" in line
    assert ledger(w, "sign", "adopt.json", "--key", "d/keys/panel-1.key", "--output-signature", "p1.sig").returncode == 0
    result = ledger(w, "combine", "adopt.json", *copies, copies[0], "p1.sig")  # adopt.json exists: merged too
    assert result.returncode == 0, result.stderr
    assert "3 signature(s) from 6 file(s), 2 duplicate(s) dropped" in result.stdout
    assert len(json.loads((w / "adopt.json").read_text())["signatures"]) == 3
    status = ledger(w, "status", "adopt.json", "--ledger", "d/ledger.db")
    assert status.returncode == 0 and "3 signed, 3 required: met" in status.stdout
    assert ledger(w, "append", "d/ledger.db", "adopt.json", "--operator-key", "d/keys/operator.key").returncode == 0


def test_combine_refuses_copies_of_different_statements_naming_the_field(w: Path) -> None:
    copies = _parallel_copies(w)
    assert ledger(w, "adopt-rules", "d/ledger.db", "--name", "v4 bis", "--at", "2027-03-02T10:00:05Z", "--out", "other.json").returncode == 0
    line = refused(ledger(w, "combine", "out.json", copies[0], "other.json"))
    assert "holds a different statement" in line
    assert 'statement.body.name: "v4" in' in line and '"v4 bis" in other.json' in line
    assert 'statement.time: "2027-03-02T10:00:00Z"' in line and '"2027-03-02T10:00:05Z"' in line
    assert not (w / "out.json").exists()


def test_combine_checks_every_signature(w: Path) -> None:
    copies = _parallel_copies(w)
    obj = json.loads(copies[1].read_text())
    sig = obj["signatures"][0]["sig"]
    obj["signatures"][0]["sig"] = ("B" if sig[0] == "A" else "A") + sig[1:]
    copies[1].write_bytes(canonical.encode(obj) + b"\n")
    assert "does not verify" in refused(ledger(w, "combine", "out.json", copies[0], copies[1]))
    # a signature file for another statement
    assert ledger(w, "adopt-rules", "d/ledger.db", "--name", "other", "--out", "other.json").returncode == 0
    assert ledger(w, "sign", "other.json", "--key", "d/keys/panel-1.key", "--output-signature", "other.sig").returncode == 0
    assert "signs statement" in refused(ledger(w, "combine", "out.json", copies[0], "other.sig"))
    assert "no statement file" in refused(ledger(w, "combine", "out.json", "other.sig"), 2)
    assert not (w / "out.json").exists()


def test_combine_library_drops_duplicates_by_key(demo: Path) -> None:
    statement = Statement.build("org.register", A.org_register("fresh", "Fresh"), "2027-03-01T00:00:00Z", demo_id(demo))
    one = StatementFile(statement)
    one.sign(key(demo, "recorder-1"))
    detached = SignatureFile.of(statement, key(demo, "recorder-1"))
    merged = combine([("a", one.to_bytes()), ("b", detached.to_bytes()), ("c", one.to_bytes())])
    assert list(merged.document.signatures) == [key(demo, "recorder-1").public.key_id] and merged.duplicates == 2


# -- log, keygen, locale ---------------------------------------------------------------------

def test_log_shows_the_newest_entries_by_name(demo: Path) -> None:
    result = ledger(demo, "log", "d/ledger.db")
    rows = result.stdout.strip().splitlines()
    size = open_ledger(demo / "d" / "ledger.db").verifier.size
    assert len(rows) == 50 and rows[-1].split()[0] == str(size - 1)
    assert f"entries {size - 50}-{size - 1} (the newest of {size})" in result.stderr
    assert "Panel member" in result.stdout and "Data steward" in result.stdout
    tail = ledger(demo, "log", "d/ledger.db", "--tail", "3").stdout.strip().splitlines()
    assert [r.split()[0] for r in tail] == [str(size - 3), str(size - 2), str(size - 1)]
    assert ledger(demo, "log", "d/ledger.db", "--from", "0", "--limit", "2").stdout.splitlines()[0].split()[0] == "0"
    assert refused(ledger(demo, "log", "d/ledger.db", "--tail", "3", "--from", "1"), 2)


def test_keygen_kdf_rounds(tmp_path: Path) -> None:
    result = ledger(tmp_path, "keygen", "k", "--kdf-rounds", "1", "--json")
    assert result.returncode == 0, result.stderr
    assert read_private_key_file(tmp_path / "k.key", PASSPHRASE.encode()).public.key_id == json.loads(result.stdout)["key_id"]
    assert openssh_kdf_rounds((tmp_path / "k.key").read_bytes()) == 1
    refused(ledger(tmp_path, "keygen", "k2", "--kdf-rounds", "0"), 2)
    assert not (tmp_path / "k2.key").exists()


def test_demo_keys_use_one_kdf_round(demo: Path) -> None:
    """The demo's passphrase is public (DEMO_PASSPHRASE), so bcrypt-pbkdf rounds protect
    nothing there: its keys use one round, which keeps every demo signature (and the tests
    and walkthroughs built on the demo) quick. Keys from ``ledger keygen`` keep 16."""
    keys = sorted((demo / "d" / "keys").glob("*.key"))
    assert keys and {openssh_kdf_rounds(k.read_bytes()) for k in keys} == {1}


def test_non_ascii_text_under_a_c_locale(demo: Path, tmp_path: Path) -> None:
    """LC_ALL=C with Python's UTF-8 mode off: argv arrives as surrogates; names survive."""
    c_env = {k: v for k, v in env().items() if k not in ("PYTHONIOENCODING", "LANG", "LC_CTYPE")}
    c_env.update(LC_ALL="C", PYTHONUTF8="0")
    result = run_ledger("new-org", "d/ledger.db", "--id", "cartel-n", "--name", "Cártel del Niño", "--at",
                        "2027-05-01T00:00:00Z", "--out", tmp_path / "org.json", cwd=demo, env=c_env)
    assert result.returncode == 0, result.stderr
    assert StatementFile.parse((tmp_path / "org.json").read_bytes()).statement.body["name"] == "Cártel del Niño"
    shown = subprocess.run([str(LEDGER), "status", str(tmp_path / "org.json"), "--ledger", "d/ledger.db"],
                           cwd=demo, env=c_env, capture_output=True, stdin=subprocess.DEVNULL)
    assert shown.returncode == 1 and b"Traceback" not in shown.stderr
    assert "Cártel del Niño".encode("utf-8") in shown.stdout


@pytest.mark.parametrize("answer, signed", [(b"n\n", False), (b"y\n", True)])
def test_sign_asks_on_a_terminal(demo: Path, tmp_path: Path, answer: bytes, signed: bool) -> None:
    """On a terminal, sign shows the statement and asks; "n" leaves the file as it was."""
    import os

    file = write_statement(tmp_path / "org.json", Statement.build("org.register", A.org_register("fresh", "Fresh"),
                                                                  "2027-03-01T00:00:00Z", demo_id(demo)))
    before = file.read_bytes()
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen([str(LEDGER), "sign", str(file), "--key", "d/keys/recorder-1.key"], cwd=demo, env=env(),
                                stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.write(master, answer)
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(master)
        os.close(slave)
    assert b"Sign it? [y/N]" in out and b"org.register" in out and b"Traceback" not in err
    assert proc.returncode == (0 if signed else 1), err
    assert (file.read_bytes() != before) is signed


def test_log_reads_a_published_directory(demo: Path) -> None:
    assert ledger(demo, "log", "site", "--tail", "2").stdout == ledger(demo, "log", "d/ledger.db", "--tail", "2").stdout


def test_a_key_added_twice_is_named(demo: Path) -> None:
    from ledger.core.authoring import policy_update_statement
    from ledger.errors import AuthorityError

    view = open_ledger(demo / "d" / "ledger.db")
    new = key(demo, "panel-1").public  # already a panel key
    with pytest.raises(AuthorityError, match="listed twice for role 'panel'"):
        policy_update_statement(view.ledger_id, view.policy, "2027-03-01T00:00:00Z", reason="x", add=[("panel", new, "again")])
