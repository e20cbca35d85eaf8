"""The scaled-out deployment files hang together (no Docker engine here: parsed, not run)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from shopcast.supervisor import STOP_SECONDS

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "${SHOPCAST_SECRET_KEY:?set SHOPCAST_SECRET_KEY}"


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def apps(services: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in services.items() if "build" in service}


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def final_stage() -> list[str]:
    """The Dockerfile's instructions after its last FROM, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    last_from = max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    return lines[last_from:]


def image_cmd() -> list[str]:
    cmds = [line[4:].strip() for line in final_stage() if line.upper().startswith("CMD ")]
    assert cmds, "the Dockerfile's final stage has no CMD"
    return json.loads(cmds[-1]) if cmds[-1].startswith("[") else shlex.split(cmds[-1])


def test_two_app_replicas_built_from_the_repo_run_shopcast_serve() -> None:
    replicas = apps(compose()["services"])
    assert len(replicas) == 2, f"expected two app replicas with `build`, found {sorted(replicas)}"
    for name, service in replicas.items():
        build = service["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        assert context in (".", "./"), f"{name} must be built from the repository root, not {context!r}"
        command = service.get("command", image_cmd())
        command = shlex.split(command) if isinstance(command, str) else command
        assert command[:2] == ["shopcast", "serve"], f"{name} runs {command}, not `shopcast serve`"


def test_replicas_share_postgres_redis_and_one_secret_key() -> None:
    services = compose()["services"]
    for name, service in apps(services).items():
        env = environment(service)
        database = env.get("SHOPCAST_DATABASE_URL", "")
        assert re.match(r"postgresql\+asyncpg://[^@]+@postgres(:5432)?/", database), (
            f"{name}: SHOPCAST_DATABASE_URL must reach the postgres service with asyncpg, got {database!r}"
        )
        redis = env.get("SHOPCAST_REDIS_URL", "")
        assert re.match(r"redis://redis(:6379)?(/|$)", redis), f"{name}: SHOPCAST_REDIS_URL is {redis!r}"
        assert env.get("SHOPCAST_SECRET_KEY") == SECRET_KEY, (
            f"{name}: every replica needs the same, required SHOPCAST_SECRET_KEY ({SECRET_KEY})"
        )
        assert env.get("SHOPCAST_TRUST_FORWARDED_HEADERS") == "true", f"{name} sits behind the proxy"
        needs = service.get("depends_on", {})
        for backing in ("postgres", "redis"):
            assert needs.get(backing, {}).get("condition") == "service_healthy", (
                f"{name} must wait until {backing} is healthy"
            )


def udp_ranges(service: dict[str, Any]) -> list[str]:
    """The UDP port ranges a service publishes, as HOST_RANGE:CONTAINER_RANGE."""
    ranges = []
    for port in service.get("ports", []):
        if isinstance(port, dict):  # compose's long syntax
            port = f"{port['published']}:{port['target']}/{port.get('protocol', 'tcp')}"
        if str(port).endswith("/udp"):
            ranges.append(str(port).removesuffix("/udp"))
    return ranges


def test_each_replica_publishes_exactly_its_webrtc_ports_on_its_own_address() -> None:
    services = compose()["services"]
    taken: set[int] = set()
    for name, service in apps(services).items():
        env = environment(service)
        first, last = (int(port) for port in env["SHOPCAST_WEBRTC_PORTS"].split("-"))
        # The same numbers outside and in: the candidates announce the container's ports.
        assert udp_ranges(service) == [f"{first}-{last}:{first}-{last}"], (name, udp_ranges(service))
        ports = set(range(first, last + 1))
        assert not ports & taken, f"{name}'s WebRTC ports overlap another replica's"
        taken |= ports
        # WebRTC binds SHOPCAST_WEBRTC_HOSTS: the replica's own fixed address on the network.
        (network,) = service["networks"].values()
        assert env["SHOPCAST_WEBRTC_HOSTS"] == network["ipv4_address"], name
    assert not any(udp_ranges(s) for n, s in services.items() if n not in apps(services)), "UDP only for WebRTC"


def test_postgres_and_redis_have_images_and_healthchecks() -> None:
    services = compose()["services"]
    for name, probe in (("postgres", "pg_isready"), ("redis", "redis-cli")):
        assert name in services, f"compose.yaml has no {name} service"
        assert services[name].get("image", "").startswith(f"{name}:"), f"{name} should use the official image"
        test = services[name].get("healthcheck", {}).get("test", [])
        test = " ".join(test) if isinstance(test, list) else test
        assert probe in test, f"{name}'s healthcheck should run {probe}, runs {test!r}"


def test_proxy_publishes_a_port_and_mounts_the_nginx_config() -> None:
    proxy = compose()["services"]["proxy"]
    assert proxy.get("image", "").startswith("nginx:"), "the proxy is the official nginx image"
    assert proxy.get("ports"), "the proxy must publish a port"
    mounts = [volume if isinstance(volume, str) else volume.get("source", "") for volume in proxy.get("volumes", [])]
    assert any(mount.startswith("./deploy/nginx.conf:") for mount in mounts), f"deploy/nginx.conf not in {mounts}"


def test_nginx_balances_both_replicas_by_connections_and_upgrades_websockets() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    for name in apps(compose()["services"]):
        assert re.search(rf"server\s+{name}:8080\b", conf), f"nginx.conf does not proxy to {name}:8080"
    # No stickiness needed (replicas pass requests for each other's sessions on); WebSockets stay open.
    assert re.search(r"^\s*least_conn;", conf, re.M), "balance the replicas by open connections (least_conn)"
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade;", conf), "Upgrade header not passed"
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade;", conf), "Connection header not set"
    assert "proxy_http_version 1.1;" in conf, "WebSockets need HTTP/1.1 to the upstream"


def test_image_serves_on_port_8080_and_checks_its_health() -> None:
    stage = final_stage()
    assert image_cmd() == ["shopcast", "serve"], f"the image runs {image_cmd()}"
    assert any(re.fullmatch(r"EXPOSE\s+8080(/tcp)?", line) for line in stage), "the final stage must EXPOSE 8080"
    assert any(line.startswith("HEALTHCHECK") and "/healthz" in line for line in stage), "no HEALTHCHECK on /healthz"


def test_each_replica_is_reached_by_the_others_at_its_own_internal_address() -> None:
    replicas = apps(compose()["services"])
    # Each of its processes listens there on a port of its own, announced in Redis.
    addresses = {name: environment(service).get("SHOPCAST_INTERNAL_HOST") for name, service in replicas.items()}
    for name, address in addresses.items():
        assert address == name, f"{name} announces {address!r} to the other replicas"


def test_replicas_are_given_the_time_a_graceful_stop_takes() -> None:
    """Docker kills a container 10 s after asking it to stop unless told otherwise: the last facts
    and the outbox's sends in flight would be cut off."""
    for name, service in apps(compose()["services"]).items():
        grace = re.fullmatch(r"(\d+)s", str(service.get("stop_grace_period", "10s")))
        assert grace is not None, f"{name}: stop_grace_period in seconds, please"
        assert int(grace[1]) >= STOP_SECONDS, f"{name} is given {grace[1]} s to stop, its workers up to {STOP_SECONDS}"
