"""The `shopcast` command as an operator uses it: help, clear errors, users and tokens."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from shopcast.web.app import create_app
from tests.conftest import SECRET, make_settings


async def shopcast(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shopcast",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"SHOPCAST_DATA_DIR": str(tmp_path / "data"), "SHOPCAST_SECRET_KEY": SECRET}


@pytest.mark.parametrize(
    "command", [[], ["serve"], ["demo"], ["worker"], ["db"], ["db", "upgrade"], ["user"], ["user", "add"], ["token"]]
)
async def test_every_command_has_help(command: list[str], env: dict[str, str]) -> None:
    code, out, _ = await shopcast(*command, "--help", env=env)
    assert code == 0
    assert out.startswith("usage: shopcast")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["fly"], "invalid choice: 'fly'"),
        (["user", "add", "--email", "a@b.test", "--role", "boss", "--password", "long enough"], "invalid choice"),
        (["serve", "--port", "eighty"], "invalid int value"),
        (["serve", "--workers", "0"], "'0' is not a number of processes"),
        (["token"], "--email"),
    ],
)
async def test_bad_arguments_get_one_line_and_a_non_zero_exit(args: list[str], reason: str, env) -> None:
    code, _, err = await shopcast(*args, env=env)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert reason in err and "Traceback" not in err


async def test_bad_settings_and_unreachable_databases_are_one_line(env: dict[str, str]) -> None:
    code, _, err = await shopcast("db", "upgrade", env={**env, "SHOPCAST_PORT": "abc"})
    assert (
        code == 1
        and err.strip()
        == "shopcast: setting SHOPCAST_PORT: Input should be a valid integer, unable to parse string as an integer"
    )
    code, _, err = await shopcast(
        "db", "upgrade", env={**env, "SHOPCAST_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:9/none"}
    )
    assert code == 1 and "Traceback" not in err
    assert err.startswith("shopcast: cannot reach the database") and len(err.strip().splitlines()) == 1


async def test_several_workers_without_redis_are_refused_in_one_line(env: dict[str, str]) -> None:
    code, _, err = await shopcast("serve", "--workers", "2", env=env)
    assert code == 1 and err.startswith("shopcast: 2 workers need SHOPCAST_REDIS_URL"), err
    assert len(err.strip().splitlines()) == 1, err


async def test_operator_adds_a_manager_and_scripts_with_a_token(
    database_url: str, env: dict[str, str], aiohttp_client: Any, tmp_path: Path
) -> None:
    env = {**env, "SHOPCAST_DATABASE_URL": database_url}
    assert (await shopcast("db", "upgrade", env=env))[0] == 0
    code, _, err = await shopcast(
        "user", "add", "--email", "boss@acme.test", "--role", "manager", "--password", "long enough", env=env
    )
    assert code == 1 and "pass --brand SLUG" in err
    code, out, _ = await shopcast(
        "user",
        "add",
        "--email",
        "Boss@Acme.test",
        "--role",
        "manager",
        "--password",
        "long enough",
        "--brand",
        "acme",
        "--brand-name",
        "Acme",
        env=env,
    )
    assert code == 0 and "boss@acme.test is manager of acme" in out
    code, _, err = await shopcast(
        "user", "add", "--email", "h@acme.test", "--role", "host", "--password", "short", env=env
    )
    assert code == 1 and "at least 8 characters" in err
    code, _, err = await shopcast("token", "--email", "nobody@acme.test", env=env)
    assert code == 1 and "no user with email" in err

    code, token, _ = await shopcast("token", "--email", "boss@acme.test", env=env)
    assert code == 0
    settings = make_settings(tmp_path, database_url=database_url)
    client = await aiohttp_client(create_app(settings))
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.strip()}"})
    assert me.status == 200
    body = await me.json()
    assert [(m["brand"]["slug"], m["role"]) for m in body["memberships"]] == [("acme", "manager")]
    login = await client.post("/api/v1/auth/login", json={"email": "boss@acme.test", "password": "long enough"})
    assert login.status == 200
