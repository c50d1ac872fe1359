"""The offline signing workflow through the real ``ledger`` command, in subprocesses, on a
real SQLite file; bad input gets one line on stderr, a non-zero exit, and no change."""

from __future__ import annotations

import json
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from core_fixtures import TEST_KDF_ROUNDS, bundle_of, file_state, lines_of, openssh_kdf_rounds, run_ledger
from ledger.core.merkle import leaf_hash

PASS = "correct horse battery staple"
AT = "2026-03-02T10:00:00Z"


def ok(result) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stdout


def refused(result, code: int | None = None) -> str:
    """A refusal: non-zero exit, exactly one line on stderr starting with 'error:', no traceback."""
    assert result.returncode != 0, result.stdout
    if code is not None:
        assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    return lines[0]


@dataclass
class Workspace:
    dir: Path
    env: dict[str, str]

    def run(self, *args, env_extra: dict[str, str] | None = None, drop_passphrase: bool = False):
        env = dict(self.env)
        if drop_passphrase:
            env.pop("LEDGER_PASSPHRASE", None)
        env.update(env_extra or {})
        return run_ledger(*args, cwd=self.dir, env=env)

    def key_id(self, name: str) -> str:
        return self.ids[name]

    ids: dict[str, str] = None  # type: ignore[assignment]


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    """Keys, a signed genesis and an initialised ledger, built step by step through the CLI."""
    d = tmp_path_factory.mktemp("cli")
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_PASSPHRASE", "LEDGER_DEBUG")}
    env["LEDGER_PASSPHRASE"] = PASS
    w = Workspace(d, env)
    w.ids = {}
    (d / "keys").mkdir()
    (d / "pass.txt").write_text("another passphrase\nignored second line\n")
    # panel-1: passphrase from the environment; panel-2: from a file. The other keys are
    # unencrypted on request (--no-passphrase), which keeps the many signing steps quick:
    # decrypting a key deliberately costs time (bcrypt-pbkdf), so the encrypted test keys use
    # one round (TEST_KDF_ROUNDS); the default users get is tested on "default-rounds".
    cheap = ("--kdf-rounds", TEST_KDF_ROUNDS)
    w.ids["panel-1"] = json.loads(ok(w.run("keygen", "keys/panel-1", "--name", "Panel member 1", *cheap, "--json")))["key_id"]
    w.ids["panel-2"] = json.loads(ok(w.run("keygen", "keys/panel-2", "--passphrase-file", "pass.txt", *cheap, "--json", drop_passphrase=True)))["key_id"]
    for name in ("panel-3", "panel-4", "recorder-1", "operator", "outsider"):
        w.ids[name] = json.loads(ok(w.run("keygen", f"keys/{name}", "--no-passphrase", "--json", drop_passphrase=True)))["key_id"]
    ok(w.run(
        "genesis", "--origin", "ledger.test.example/cli", "--name", "CLI test ledger",
        "--panel", "keys/panel-1.pub", "--panel", "keys/panel-2.pub", "--panel", "keys/panel-3.pub",
        "--panel-threshold", "2", "--recorder", "keys/recorder-1.pub", "--operator", "keys/operator.pub",
        "--at", AT, "--out", "genesis.json",
    ))
    return w


def _sign(w: Workspace, file: str, name: str):
    if name == "panel-2":
        return w.run("sign", file, "--key", f"keys/{name}.key", "--passphrase-file", "pass.txt", drop_passphrase=True)
    if name == "panel-1":
        return w.run("sign", file, "--key", f"keys/{name}.key")
    return w.run("sign", file, "--key", f"keys/{name}.key", drop_passphrase=True)


def _status(w: Workspace, file: str, *extra: str):
    result = w.run("status", file, "--json", *extra)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


# -- keygen -------------------------------------------------------------------------------------

def test_keygen_files_modes_and_encryption(ws: Workspace) -> None:
    keys = ws.dir / "keys"
    for name in ("panel-1", "panel-2", "panel-3", "operator"):
        private = keys / f"{name}.key"
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
        assert (keys / f"{name}.pub").is_file()
    from ledger.errors import KeyFileError
    from ledger.storage.keyfiles import is_encrypted_private_key, read_private_key_file, read_public_key_file

    assert is_encrypted_private_key((keys / "panel-1.key").read_bytes())
    assert is_encrypted_private_key((keys / "panel-2.key").read_bytes())
    assert not is_encrypted_private_key((keys / "panel-3.key").read_bytes())
    assert b"PRIVATE KEY" in (keys / "panel-3.key").read_bytes()
    assert len(set(ws.ids.values())) == len(ws.ids)  # fresh keys, distinct ids
    with pytest.raises(KeyFileError):
        read_private_key_file(keys / "panel-2.key", PASS.encode())  # the env passphrase is not panel-2's

    assert read_private_key_file(keys / "panel-2.key", b"another passphrase").public.key_id == ws.ids["panel-2"]
    assert read_public_key_file(keys / "panel-2.pub")[0].key_id == ws.ids["panel-2"]


def test_keygen_default_kdf_rounds_are_what_users_get(ws: Workspace) -> None:
    """Test keys use one round; a key made without --kdf-rounds has the default, 16
    (as ssh-keygen), and one made with --kdf-rounds 1 has exactly one."""
    from ledger.core.keys import DEFAULT_KDF_ROUNDS

    assert DEFAULT_KDF_ROUNDS == 16
    ok(ws.run("keygen", "keys/default-rounds", "--json"))
    assert openssh_kdf_rounds((ws.dir / "keys" / "default-rounds.key").read_bytes()) == 16
    assert openssh_kdf_rounds((ws.dir / "keys" / "panel-1.key").read_bytes()) == 1
    assert openssh_kdf_rounds((ws.dir / "keys" / "panel-2.key").read_bytes()) == 1


def test_keygen_without_passphrase_source_refuses_and_writes_nothing(ws: Workspace) -> None:
    line = refused(ws.run("keygen", "keys/nopass", drop_passphrase=True))
    assert "passphrase" in line
    assert not (ws.dir / "keys" / "nopass.key").exists() and not (ws.dir / "keys" / "nopass.pub").exists()


def test_keygen_refuses_to_overwrite(ws: Workspace) -> None:
    before = (ws.dir / "keys" / "panel-1.key").read_bytes()
    refused(ws.run("keygen", "keys/panel-1"))
    assert (ws.dir / "keys" / "panel-1.key").read_bytes() == before


# -- genesis, offline signatures, init --------------------------------------------------------

def test_workflow_genesis_to_policy_update(ws: Workspace) -> None:
    w = ws
    panel = sorted(w.ids[p] for p in ("panel-1", "panel-2", "panel-3"))
    code, st = _status(w, "genesis.json")
    assert code == 1 and st["complete"] is False and st["signed"] == [] and st["missing"] == panel
    assert st["threshold"] == 2 and st["role"] == "panel"

    for i, name in enumerate(("panel-1", "panel-2")):
        ok(_sign(w, "genesis.json", name))
    code, st = _status(w, "genesis.json")
    # the panel threshold is reached, but the genesis needs every key (proof of possession)
    assert code == 1 and st["signed"] == sorted(w.ids[p] for p in ("panel-1", "panel-2"))
    assert set(st["missing_added_keys"]) == {w.ids["panel-3"], w.ids["recorder-1"], w.ids["operator"]}
    text = w.run("status", "genesis.json")
    assert text.returncode == 1 and "waiting for" in text.stdout and "FAIL" not in text.stdout

    # a key cannot sign twice; the file is unchanged
    before = (w.dir / "genesis.json").read_bytes()
    assert "already signed" in refused(_sign(w, "genesis.json", "panel-1"), 1)
    assert (w.dir / "genesis.json").read_bytes() == before

    for name in ("panel-3", "recorder-1", "operator"):
        ok(_sign(w, "genesis.json", name))
    code, st = _status(w, "genesis.json")
    assert code == 0 and st["complete"] is True and st["signed"] == panel and st["missing"] == []

    out = ok(w.run("init", "ledger.db", "genesis.json", "--operator-key", "keys/operator.key"))
    ledger_id = out.split("ledger id ")[1].strip()
    assert len(ledger_id) == 64
    refused(w.run("init", "ledger.db", "genesis.json", "--operator-key", "keys/operator.key"))

    # a recorder's statement: new, sign, status, append
    (w.dir / "org.body.json").write_text('{"org_id": "alpha", "name": "Alpha cartel", "aliases": ["A"]}\n')
    ok(w.run("new", "org.register", "--body", "org.body.json", "--ledger", "ledger.db", "--at", AT, "--out", "org.json"))
    code, st = _status(w, "org.json", "--ledger", "ledger.db")
    assert code == 1 and st["signed"] == [] and st["missing"] == [w.ids["recorder-1"]]
    ok(_sign(w, "org.json", "recorder-1"))
    assert _status(w, "org.json", "--ledger", "ledger.db")[0] == 0
    appended = json.loads(ok(w.run("append", "ledger.db", "org.json", "--operator-key", "keys/operator.key", "--json")))
    assert [(e["seq"], e["type"]) for e in appended] == [(1, "org.register")]

    # policy update: add panel-4 (who must sign), revoke panel-3 (by a key id prefix)
    ok(w.run("policy-update", "ledger.db", "--add", "panel=keys/panel-4.pub", "--revoke", w.ids["panel-3"][:16],
             "--reason", "panel-3 key compromised", "--at", AT, "--out", "policy.json"))
    body = json.loads((w.dir / "policy.json").read_text())["statement"]["body"]
    assert body["revoke"] == [w.ids["panel-3"]] and w.ids["panel-4"] in body["policy"]["keys"]
    assert w.ids["panel-3"] not in body["policy"]["keys"] and body["policy"]["version"] == 2
    ok(_sign(w, "policy.json", "panel-1"))
    ok(_sign(w, "policy.json", "panel-2"))
    code, st = _status(w, "policy.json", "--ledger", "ledger.db")
    assert code == 1 and st["missing_added_keys"] == [w.ids["panel-4"]]
    ok(_sign(w, "policy.json", "panel-4"))
    assert _status(w, "policy.json", "--ledger", "ledger.db")[0] == 0
    ok(w.run("append", "ledger.db", "policy.json", "--operator-key", "keys/operator.key"))

    # read it back: log, export, verify
    log = ok(w.run("log", "ledger.db", "--limit", "0"))
    rows = log.strip().splitlines()
    assert len(rows) == 3 and "ledger.genesis" in rows[0] and "org.register" in rows[1] and "policy.update" in rows[2]
    ok(w.run("export", "ledger.db", "--out", "ledger.jsonl"))
    bundle = (w.dir / "ledger.jsonl").read_bytes()
    as_json = ok(w.run("log", "ledger.db", "--json", "--limit", "0"))
    assert bundle_of(line.encode() for line in as_json.splitlines()) == bundle
    report = json.loads(ok(w.run("verify", "ledger.jsonl", "--json")))
    assert report["entries"] == 3 and report["ledger_id"] == ledger_id and report["policy_version"] == 2
    assert report["head"] == leaf_hash(lines_of(bundle)[-1]).hex()
    ok(w.run("verify", "ledger.db"))


# -- bad input: one line on stderr, non-zero exit, ledger unchanged ------------------------------

@pytest.fixture(scope="module")
def ready(ws: Workspace, tmp_path_factory) -> Workspace:
    """A ledger of its own (genesis, org 'alpha' in org.json, panel-3 revoked at entry 2),
    built through the CLI with the workspace's keys, independent of test order."""
    d = tmp_path_factory.mktemp("ready")
    shutil.copytree(ws.dir / "keys", d / "keys")
    shutil.copyfile(ws.dir / "pass.txt", d / "pass.txt")
    w = Workspace(d, ws.env)
    w.ids = ws.ids
    ok(w.run(
        "genesis", "--origin", "ledger.test.example/bad", "--name", "bad input ledger",
        "--panel", "keys/panel-1.pub", "--panel", "keys/panel-2.pub", "--panel", "keys/panel-3.pub",
        "--panel-threshold", "2", "--recorder", "keys/recorder-1.pub", "--operator", "keys/operator.pub",
        "--out", "genesis.json",
    ))
    for name in ("panel-1", "panel-2", "panel-3", "recorder-1", "operator"):
        ok(_sign(w, "genesis.json", name))
    ok(w.run("init", "ledger.db", "genesis.json", "--operator-key", "keys/operator.key"))
    _statement(w, "org", '{"org_id":"alpha","name":"Alpha","aliases":[]}', "recorder-1")
    ok(w.run("append", "ledger.db", "org.json", "--operator-key", "keys/operator.key"))
    ok(w.run("policy-update", "ledger.db", "--add", "panel=keys/panel-4.pub", "--revoke", w.ids["panel-3"],
             "--reason", "revoke panel-3", "--out", "policy.json"))
    for name in ("panel-1", "panel-2", "panel-4"):
        ok(_sign(w, "policy.json", name))
    ok(w.run("append", "ledger.db", "policy.json", "--operator-key", "keys/operator.key"))
    _statement(w, "good", '{"org_id":"good","name":"Good","aliases":[]}', "recorder-1")  # never appended
    return w


def _statement(w: Workspace, name: str, body: str, *signers: str, ledger: tuple[str, ...] = ("--ledger", "ledger.db")) -> str:
    (w.dir / f"{name}.body.json").write_text(body)
    ok(w.run("new", "org.register", "--body", f"{name}.body.json", *ledger, "--out", f"{name}.json"))
    for signer in signers:
        ok(_sign(w, f"{name}.json", signer))
    return f"{name}.json"


def _corrupt_signature(w: Workspace, file: str) -> None:
    obj = json.loads((w.dir / file).read_text())
    sig = obj["signatures"][0]["sig"]
    obj["signatures"][0]["sig"] = ("B" if sig[0] == "A" else "A") + sig[1:]
    from ledger.core import canonical

    (w.dir / file).write_bytes(canonical.encode(obj) + b"\n")


BAD_APPENDS = {
    "unknown-key": (lambda w: _statement(w, "unknown", '{"org_id":"u1","name":"U","aliases":[]}', "outsider"), "not in policy"),
    "revoked-key": (lambda w: _statement(w, "revoked", '{"org_id":"r1","name":"R","aliases":[]}', "panel-3"), "revoked at entry 2"),
    "too-few-signatures": (lambda w: _two_step_policy(w), "R-7.13"),
    "other-ledger": (lambda w: _statement(w, "other", '{"org_id":"o1","name":"O","aliases":[]}', "recorder-1", ledger=("--ledger-id", "cd" * 32)), "another ledger"),
    "duplicate": (lambda w: "org.json", "R-7.8"),
    "bad-signature": (lambda w: _bad_sig(w, "badsig-append"), "does not verify"),
    "not-json": (lambda w: _write(w, "garbage.json", b"{not json"), "garbage.json"),
    "wrong-schema-file": (lambda w: _write(w, "schema.json", b'{"statement":{"v":1},"signatures":[]}\n'), "schema.json"),
}


def _write(w: Workspace, name: str, data: bytes) -> str:
    (w.dir / name).write_bytes(data)
    return name


def _bad_sig(w: Workspace, name: str) -> str:
    file = _statement(w, name, f'{{"org_id":"{name}","name":"B","aliases":[]}}', "recorder-1")
    _corrupt_signature(w, file)
    return file


def _two_step_policy(w: Workspace) -> str:
    ok(w.run("policy-update", "ledger.db", "--threshold", "panel=1", "--reason", "lower", "--out", "few.json"))
    ok(_sign(w, "few.json", "panel-4"))
    return "few.json"


@pytest.mark.parametrize("bad", list(BAD_APPENDS))
def test_bad_append_is_refused_and_changes_nothing(ready: Workspace, bad: str) -> None:
    w = ready
    make, expected = BAD_APPENDS[bad]
    file = make(w)
    before = file_state(w.dir / "ledger.db")
    line = refused(w.run("append", "ledger.db", file, "--operator-key", "keys/operator.key"))
    assert expected in line, line
    assert file_state(w.dir / "ledger.db") == before
    # also refused inside a batch with a good statement: nothing of the batch lands
    refused(w.run("append", "ledger.db", "good.json", file, "--operator-key", "keys/operator.key"))
    assert file_state(w.dir / "ledger.db") == before


@pytest.mark.parametrize(
    "body, code, expected",
    [
        pytest.param(b'{"org_id": "x", "name": ', 2, "body.json", id="malformed-json"),
        pytest.param(b'{"org_id": "x", "name": "X"}', 1, "aliases", id="wrong-schema"),
        pytest.param(b'{"org_id": "x", "name": "X", "aliases": [], "aliases": []}', 2, "duplicate", id="duplicate-key"),
        pytest.param(b'{"org_id": "x", "name": "X", "aliases": [], "weight": 1.5}', 2, "body.json", id="float"),
        pytest.param(b'["not", "an", "object"]', 2, "object", id="not-an-object"),
    ],
)
def test_new_refuses_bad_body(ready: Workspace, body: bytes, code: int, expected: str) -> None:
    w = ready
    (w.dir / "bad.body.json").write_bytes(body)
    before = file_state(w.dir / "ledger.db")
    line = refused(w.run("new", "org.register", "--body", "bad.body.json", "--ledger", "ledger.db", "--out", "never.json"), code)
    assert expected in line
    assert not (w.dir / "never.json").exists()
    assert file_state(w.dir / "ledger.db") == before


def test_sign_refuses_file_with_bad_signature(ready: Workspace) -> None:
    w = ready
    file = _bad_sig(w, "badsig-sign")
    before = (w.dir / file).read_bytes()
    assert "does not verify" in refused(_sign(w, file, "panel-1"), 1)
    assert (w.dir / file).read_bytes() == before


def test_wrong_passphrase_and_missing_ledger(ready: Workspace) -> None:
    w = ready
    file = _statement(w, "pp", '{"org_id":"pp","name":"PP","aliases":[]}', "recorder-1")
    before = file_state(w.dir / "ledger.db")
    # panel-1's key is the encrypted one; a wrong passphrase stops the append before anything
    line = refused(w.run("append", "ledger.db", file, "--operator-key", "keys/panel-1.key",
                         env_extra={"LEDGER_PASSPHRASE": "wrong"}), 1)
    assert "passphrase" in line
    assert file_state(w.dir / "ledger.db") == before
    refused(w.run("append", "missing.db", file, "--operator-key", "keys/operator.key"), 2)
    assert not (w.dir / "missing.db").exists()


# -- every command documents itself ---------------------------------------------------------------

def _walk(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):  # includes lazily loaded commands
            yield from _walk(command.get_command(ctx, name), (*path, name))


def test_every_command_has_help_with_an_example() -> None:
    from ledger.cli import main

    commands = list(_walk(main))
    assert len(commands) > 10
    missing = [" ".join(p) or "ledger" for p, c in commands[1:] if not (c.help or "").strip() or "Example" not in c.help]
    assert missing == [], f"commands without help text or an Example: {missing}"
    # and --help of each works through the real executable (for a sample: startup is slow)
    for path, _ in [commands[1], commands[len(commands) // 2], commands[-1]]:
        result = run_ledger(*path, "--help")
        assert result.returncode == 0 and "Example" in result.stdout, result.stderr


@pytest.mark.parametrize(
    "args, expected",
    [
        pytest.param(["--add", "judge=keys/outsider.pub"], "unknown role 'judge'", id="add-to-unknown-role"),
        pytest.param(["--threshold", "judge=2"], "unknown role 'judge'", id="threshold-of-unknown-role"),
        pytest.param(["--revoke", "0" * 64], "matches no key", id="revoke-unknown-key"),
        pytest.param(["--remove", "zz"], "matches no key", id="remove-unknown-prefix"),
        pytest.param(["--revoke", ""], "matches no key", id="revoke-empty-prefix"),
        pytest.param(["--threshold", "panel=9"], "between 1 and", id="threshold-above-keys"),
    ],
)
def test_policy_update_refuses_bad_requests(ready: Workspace, args: list[str], expected: str) -> None:
    line = refused(ready.run("policy-update", "ledger.db", *args, "--reason", "bad", "--out", "never.json"), 1)
    assert expected in line, line
    assert not (ready.dir / "never.json").exists()


def test_policy_update_refuses_ambiguous_key_prefix(ready: Workspace) -> None:
    from collections import Counter

    ids = [ready.ids[n] for n in ("panel-1", "panel-2", "panel-4", "recorder-1", "operator")]
    # the shortest prefix shared by two keys of the policy in force (there always is one: 1 hex digit
    # of 5 random keys collides with probability ~0.5, else 2 digits... use the longest common one)
    best = max(((a, b) for i, a in enumerate(ids) for b in ids[i + 1:]), key=lambda p: len(os.path.commonprefix(p)))
    prefix = os.path.commonprefix(best)
    if not prefix:
        # no two keys share even a first digit: then one digit that names no key is still refused
        prefix = next(c for c in "0123456789abcdef" if not Counter(i[0] for i in ids)[c])
        expected = "matches no key"
    else:
        expected = "matches 2 keys" if sum(i.startswith(prefix) for i in ids) == 2 else "keys ("
    line = refused(ready.run("policy-update", "ledger.db", "--revoke", prefix, "--reason", "x", "--out", "never.json"), 1)
    assert expected in line, line
    assert not (ready.dir / "never.json").exists()
    # a unique prefix is accepted. The key revoked is a panel key: recorder and operator have one
    # key each, and a policy that leaves a role empty is refused when the statement is created.
    panel = {ready.ids[n] for n in ("panel-1", "panel-2", "panel-4")}
    chosen = next((key for key in best if key in panel), ready.ids["panel-4"])
    out = ok(ready.run("policy-update", "ledger.db", "--revoke", chosen[:20], "--reason", "x"))
    assert json.loads(out)["statement"]["body"]["revoke"] == [chosen]


def test_key_prefix_resolution_never_guesses() -> None:
    from collections import defaultdict

    from core_fixtures import KeyRing
    from ledger.app.statements import full_key_id
    from ledger.errors import AuthorityError
    from ledger.core.policy import Policy, build_policy_json

    ring = KeyRing("prefixes")
    labels = [f"k{i}" for i in range(17)]  # 17 keys, 16 hex digits: two share a first digit
    keys = {ring.id(l): (ring[l].public, l) for l in labels}
    policy = Policy.from_json(build_policy_json(
        1, keys, {"panel": (list(keys), 1), "recorder": ([ring.id(labels[0])], 1), "operator": ([ring.id(labels[0])], 1)}))
    by_digit = defaultdict(list)
    for key_id in policy.keys:
        by_digit[key_id[0]].append(key_id)
    shared = next(ids for ids in by_digit.values() if len(ids) >= 2)
    with pytest.raises(AuthorityError, match=f"matches {len(shared)} keys"):
        full_key_id(policy, shared[0][0], "--revoke")
    for key_id in shared:
        unique = next(key_id[:n] for n in range(1, 65) if sum(k.startswith(key_id[:n]) for k in policy.keys) == 1)
        assert full_key_id(policy, unique.upper(), "--revoke") == key_id
