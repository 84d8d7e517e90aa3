"""The CLI contract: clear one-line errors, exit codes, nothing written on failure."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CONFIG, SAMPLES, SEED, run_listen


def assert_one_line_error(done, fragment: str) -> None:  # type: ignore[no-untyped-def]
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert fragment in lines[0]
    assert "Traceback" not in done.stderr


@pytest.fixture
def no_article(tmp_path: Path) -> Path:
    page = tmp_path / "tag-index.html"
    page.write_text(
        "<html><head><title>Tag: Gaza</title></head><body><nav><a href='/'>Home</a></nav>"
        "<h1>Tag: Gaza</h1><ul><li><a href='/a'>Story one</a></li>"
        "<li><a href='/b'>Story two</a></li></ul><footer>Example</footer></body></html>"
    )
    return page


def test_render_folder_without_pages(tmp_path: Path) -> None:
    (tmp_path / "drafts").mkdir()
    (tmp_path / "drafts" / "notes.txt").write_text("not a page")
    out = tmp_path / "public"
    done = run_listen("render", "--out", out, "--config", CONFIG, tmp_path / "drafts",
                      check=False)  # fmt: skip
    assert_one_line_error(done, "no .html pages in folder")
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["missing.html"], "page not found"),
        (["--voice", "nobody", str(SEED)], "unknown voice 'nobody'"),
    ],
)
def test_render_errors_write_nothing(tmp_path: Path, args: list[str], fragment: str) -> None:
    out = tmp_path / "public"
    done = run_listen("render", "--out", out, "--config", CONFIG, *args, check=False)
    assert_one_line_error(done, fragment)
    assert not out.exists()


def test_render_refuses_a_page_without_article(tmp_path: Path, no_article: Path) -> None:
    out = tmp_path / "public"
    done = run_listen("render", no_article, "--out", out, "--voice", "espeak-en-us", check=False)
    assert_one_line_error(done, "no article text")
    assert not out.exists()


def test_one_bad_page_among_good_ones_writes_nothing(tmp_path: Path, no_article: Path) -> None:
    out = tmp_path / "public"
    done = run_listen(
        "render", SEED, no_article, "--out", out, "--voice", "espeak-en-us", check=False
    )
    assert_one_line_error(done, "no article text")
    assert not out.exists()


def test_out_pointing_at_a_file_is_an_error(tmp_path: Path) -> None:
    target = tmp_path / "public"
    target.write_text("not a folder")
    done = run_listen("render", SEED, "--out", target, "--voice", "espeak-en-us", check=False)
    assert_one_line_error(done, "is a file")
    assert target.read_text() == "not a folder"


def test_extract_errors(no_article: Path) -> None:
    assert_one_line_error(run_listen("extract", "nope.html", check=False), "page not found")
    assert_one_line_error(run_listen("extract", no_article, check=False), "no article text")


def test_bad_config_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "listen.toml"
    config.write_text("[show\ntitle = 1")
    done = run_listen("extract", SEED, "--config", config, check=False)
    assert_one_line_error(done, "invalid TOML")


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ("[queue]\nvisibility_timeout = 0", "visibility_timeout must be a number of at least 1"),
        ("[queue]\nmax_retries = -1", "max_retries must be a number of at least 0"),
        ('[queue]\nretry_delay = "soon"', "retry_delay must be a number"),
        ("[queue]\nbrokers = 'redis://x'", "[queue]: unknown setting(s) brokers"),
    ],
)
def test_bad_queue_settings_are_errors(tmp_path: Path, table: str, fragment: str) -> None:
    config = tmp_path / "listen.toml"
    config.write_text(table + "\n")
    assert_one_line_error(run_listen("status", "--config", config, check=False), fragment)


def test_usage_errors_exit_2() -> None:
    assert run_listen("render", check=False).returncode == 2
    assert run_listen("extract", SEED, "--format", "pdf", check=False).returncode == 2


def test_voices_lists_presets_and_system_voices() -> None:
    out = run_listen("voices").stdout
    assert "joe" in out and "piper" in out and "en_US-joe-medium" in out
    assert "espeak-en-us" in out and "pyttsx3" in out
    system = out.split("System voices (pyttsx3):")[1]
    assert int(system.split()[0]) > 10  # espeak-ng ships voices for many languages
    assert "en-us" in system.lower()


def test_render_prints_the_episode_and_feed(tmp_path: Path) -> None:
    out = tmp_path / "public"
    done = run_listen(
        "render",
        SAMPLES / "opinion-column.html",
        "--out",
        out,
        "--config",
        CONFIG,
        "--voice",
        "espeak-en-us",
    )
    assert "1 chapter," in done.stdout and "feed.xml" in done.stdout
    assert done.stderr == ""  # no progress bar outside a terminal
    quiet = run_listen(
        "render",
        SAMPLES / "opinion-column.html",
        "--out",
        out,
        "--config",
        CONFIG,
        "--voice",
        "espeak-en-us",
        "--quiet",
    )
    assert quiet.stdout == ""


def test_say_into_a_missing_folder_fails_and_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "dir" / "x.wav"
    done = run_listen("say", "hi", "--voice", "espeak-en-us", "--out", target, check=False)
    assert_one_line_error(done, f"folder not found: {target.parent}")
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize(
    ("args", "usage"),
    [
        (["render", str(SEED), "--jobs", "0"], "usage: listen render"),
        (["worker", "--concurrency", "0"], "usage: listen worker"),
        (["serve", "--port", "70000"], "usage: listen serve"),
        (["serve", "--cors", "example.org"], "usage: listen serve"),
    ],
)
def test_bad_option_values_show_the_subcommand_usage(args: list[str], usage: str) -> None:
    done = run_listen(*args, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith(usage), done.stderr
    assert "error: argument" in done.stderr.splitlines()[-1]


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("render", ["--out DIR  output folder (default: public)"]),
        ("feed", ["(default: public)"]),
        ("serve", ["(default: public)", "(default: 8000)", "(default: *)"]),
        ("extract", ["(default: json)"]),
        ("say", ["(default: say.wav)"]),
        ("status", ["(default: 10)"]),
    ],
)
def test_help_shows_the_defaults(command: str, shown: list[str]) -> None:
    text = " ".join(run_listen(command, "--help").stdout.split())
    for default in shown:
        assert " ".join(default.split()) in text, (default, text)
    assert "(default: None)" not in text and "(default: False)" not in text
