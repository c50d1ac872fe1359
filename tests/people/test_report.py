"""ledger report: a self-contained HTML page, rendered by a real headless browser (chromium).

bin/test installs Debian's chromium when it is missing and apt is available; without a
browser these tests FAIL (they do not skip), so that CI never passes without rendering.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from people_fixtures import build_demo, copy_demo, run

EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)> \"Los 'Malos'\" & Co"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    pytest.fail("chromium is not installed: the HTML report must be checked in a real browser. "
                "Run the suite with bin/test (it installs Debian's chromium when apt is available), "
                "or: apt-get install -y --no-install-recommends chromium")


def browse(page: Path, tmp_path: Path, *mode: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", *mode, page.resolve().as_uri()],
        capture_output=True, text=True, timeout=180,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("report") / "demo"
    build_demo(directory)
    return directory


@pytest.fixture(scope="module")
def round1(demo, tmp_path_factory) -> tuple[Path, str, str]:
    out = tmp_path_factory.mktemp("html") / "round-1.html"
    run("report", demo / "ledger.db", "--round", 1, "--out", out, "--samples", 30, check=True)
    replay = run("replay", demo / "ledger.db", "--round", 1, check=True).stdout
    digest = re.search(r"Ranking digest: ([0-9a-f]{64})", replay).group(1)
    return out, digest, replay


def test_report_is_self_contained(round1):
    page = round1[0].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page), "external asset"
    assert "@import" not in page and "url(" not in page
    print(f"\nreport size: {len(page.encode())} bytes")


def test_report_renders_in_chromium_with_the_figures(round1, tmp_path):
    page, digest, replay = round1
    result = browse(page, tmp_path, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert '<svg id="chart-kind"' in dom and '<svg id="chart-role"' in dom
    bars = re.findall(r'<rect class="seg" data-org="([^"]+)"', dom)
    assert len(bars) > 20 and "halcones-del-norte" in bars and "la-ruta" in bars
    assert "Round 1: target Halcones del Norte" in dom
    assert digest in dom
    for score in ("268.9875", "141.3950", "15.4800"):  # the replay's own figures
        assert score in dom and score in replay
    assert "Panel member" in dom  # who signed, by name
    assert "dispute_upheld" in dom and "too_few_sources" in dom  # exclusions by reason
    assert "ledger replay" in dom and "sha256sum" in dom  # how to reproduce
    assert "How robust is the ranking?" in dom and "P(first)" in dom
    assert "Leadership arrested" in dom  # progress against the target
    shot = tmp_path / "shot.png"
    result = browse(page, tmp_path, f"--screenshot={shot}", "--window-size=1200,2000")
    assert result.returncode == 0 and shot.stat().st_size > 20_000  # something was painted


def test_whole_ledger_report(demo, tmp_path):
    out = tmp_path / "site"
    result = run("report", demo / "ledger.db", "--out", out, "--samples", 0, "--json", check=True)
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "round-1.html", "round-2.html", "round-3.html", "round-4.html"]
    dom = browse(out / "index.html", tmp_path, "--dump-dom").stdout
    assert 'id="orgs-table"' in dom and "halcones-disidentes" in dom and 'href="round-3.html"' in dom
    assert dom.count('<svg class="spark"') >= 20
    # Did it work? (SPEC.md 12.12): the outcomes chart, each target's windows and the baseline.
    assert '<svg id="chart-outcomes"' in dom and 'id="chart-outcomes-baseline"' in dom and 'id="chart-outcomes-measured"' in dom
    assert len(re.findall(r'<rect class="period" data-period="\d{4}-\d\d"', dom)) >= 15
    assert dom.count('class="marker"') == 4  # rounds 1 and 2: named and dismantled
    assert 'id="outcome-round-1"' in dom and 'id="outcome-round-2"' in dom and "after dismantling" in dom
    outcomes = run("outcomes", demo / "ledger.db", check=True).stdout
    digest = re.search(r"Outcomes digest: ([0-9a-f]{64})", outcomes).group(1)
    standing = re.search(r"the industry, .*: (\d+) against ([\d.]+) expected, ratio ([\d.]+)", outcomes)
    assert digest in dom and f"{standing.group(1)} against {standing.group(2)} expected, ratio {standing.group(3)}" in dom
    page = (out / "round-1.html").read_text(encoding="utf-8")
    assert 'id="chart-outcomes-1"' in page and 'id="outcome-round-1"' in page and 'id="outcome-round-2"' not in page


def test_malicious_organization_name_is_escaped(demo, tmp_path):
    directory = tmp_path / "evil"
    db = copy_demo(demo, directory)
    run("new-org", db, "--id", "golfo-unido", "--name", EVIL, "--update", "--at", "2027-03-02T10:00:00Z", "--out", directory / "u.json", check=True)
    run("sign", directory / "u.json", "--key", directory / "keys" / "recorder-1.key", check=True)
    run("append", db, directory / "u.json", "--operator-key", directory / "keys" / "operator.key", check=True)
    page = tmp_path / "evil.html"
    run("report", db, "--round", 1, "--out", page, "--samples", 0, check=True)
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&quot;Los &#x27;Malos&#x27;&quot; &amp; Co" in html
    dom = browse(page, tmp_path, "--dump-dom").stdout
    assert "<script" not in dom and "<img" not in dom and "onerror=alert(2)&gt;" in dom
