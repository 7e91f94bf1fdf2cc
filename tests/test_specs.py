"""Specs and settings are checked when made; the spec file round-trips and never
holds a secret."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pulseox_git.dashboard.specs import PulseOxSpec, Settings, dumps, loads
from pulseox_git.errors import BadInputError


def test_a_spec_as_in_the_original():
    spec = PulseOxSpec(
        owner="acme", repo="status", path="jobs/a.md", schedule=timedelta(minutes=10)
    )
    assert spec.schedule == timedelta(minutes=10) and spec.grace_period is None
    assert spec.key == "acme/status:jobs/a.md"
    assert PulseOxSpec("acme", "status", "a.md", "2h", "10m").grace_period == timedelta(minutes=10)
    assert PulseOxSpec("acme", "status", "a.md", "*/5  * * * *").schedule == "*/5 * * * *"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"schedule": "0 25 * * *"}, "bad cron schedule '0 25 \\* \\* \\*'"),
        ({"schedule": "0m"}, "'0m'.*longer than zero"),
        ({"schedule": timedelta(seconds=-1)}, "'-1s'"),
        ({"schedule": "soonish"}, "'soonish'"),
        ({"grace_period": timedelta(minutes=-5)}, "bad grace period '-5m'"),
        ({"grace_period": "5 minutes"}, "'5 minutes'"),
        ({"path": "../etc/passwd"}, "'../etc/passwd'"),
        ({"path": ""}, "empty page path"),
        ({"owner": "a b"}, "bad owner 'a b'"),
        ({"repo": ""}, "bad repo ''"),
    ],
)
def test_bad_specs_are_refused_with_the_value_named(kwargs: dict, message: str):
    args = {"owner": "acme", "repo": "status", "path": "a.md", "schedule": "1h", **kwargs}
    with pytest.raises(BadInputError, match=message):
        PulseOxSpec(**args)


def test_spec_file_round_trips():
    specs = [
        PulseOxSpec("acme", "status", "jobs/a.md", timedelta(hours=1), "10m"),
        PulseOxSpec("acme", "other", "b c.org", "0 9 * * 1"),
    ]
    settings = Settings(
        mode="org",
        tz="Europe/Paris",
        tolerance=timedelta(minutes=2),
        notify={"slack": {"webhook_url_env": "SLACK_URL", "channel": "#ops"}},
    )
    text = dumps(specs, settings)
    assert "[[spec]]" in text and 'webhook_url_env = "SLACK_URL"' in text
    assert loads(text) == (specs, settings)


def test_an_empty_file_means_defaults():
    assert loads("") == ([], Settings())
    assert Settings().summary_path == "summary.md" and Settings("org").summary_path == "summary.org"
    assert Settings().tolerance == timedelta(minutes=10)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[[spec]]\nowner = 'a'\n", "spec 1: no path"),
        (
            "[[spec]]\nowner='a'\nrepo='b'\npath='c.md'\nschedule='1h'\ncolour='red'\n",
            "unknown key 'colour'",
        ),
        ("[[spec]]\nowner='a'\nrepo='b'\npath='c.md'\nschedule=10\n", "schedule must be a string"),
        (
            "[[spec]]\nowner='a'\nrepo='b'\npath='c.md'\nschedule='0 0 0 0 0'\n",
            "spec 1: bad cron schedule",
        ),
        (
            "[[spec]]\nowner='a'\nrepo='b'\npath='c.md'\nschedule='1h'\n" * 2,
            "'a/b:c.md' appears twice",
        ),
        ("[dashboard]\ntz = 'Mars/Olympus'\n", "unknown time zone 'Mars/Olympus'"),
        ("[dashboard]\nmode = 'html'\n", "bad mode 'html'"),
        ("[dashboard]\ntolerance = '-1m'\n", "bad tolerance '-1m'"),
        ("[dashboard]\ncolour = 'red'\n", "may only set mode, tz, tolerance, summary"),
        ("[other]\n", "unknown table 'other'"),
        ("spec = [", "not valid TOML"),
    ],
)
def test_bad_spec_files_are_refused(text: str, message: str):
    with pytest.raises(BadInputError, match=message):
        loads(text)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"webhook_url": "https://hooks.slack.com/services/T/B/secret"},
        {"token": "123:abc"},
        {"api_key": "k3y-s3cr3t"},
        {"url": "https://user:pw@example.invalid/hook"},
    ],
)
def test_secrets_are_never_stored(kwargs: dict):
    with pytest.raises(BadInputError, match="looks like a secret") as caught:
        Settings(notify={"slack": kwargs})
    assert next(iter(kwargs.values())) not in str(caught.value)
    text = "[notify.slack]\n" + "".join(f"{k} = '{v}'\n" for k, v in kwargs.items())
    with pytest.raises(BadInputError, match="is never stored"):
        loads(text)


def test_env_references_must_be_variable_names():
    assert Settings(notify={"telegram": {"token_env": "TG_TOKEN", "chat_id": 42}}).notify == {
        "telegram": {"token_env": "TG_TOKEN", "chat_id": 42}
    }
    with pytest.raises(BadInputError, match="must name an environment variable"):
        Settings(notify={"slack": {"webhook_url_env": "https://hooks.example/x"}})
