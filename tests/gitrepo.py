"""A throwaway git repository for tests of revision sides, hooks and the GitHub Action."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}

DENY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api
  namespace: shop
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{port: 8080}]
"""

# The same policy opening a second port on line 11 ("ports: ...").
OPEN_PORT = DENY.replace("ports: [{port: 8080}]", "ports: [{port: 8080}, {port: 8443}]")


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True,
                          capture_output=True, text=True).stdout


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def two_commits(repo: Path) -> Path:
    """`main~1` holds deploy/api.yaml, `main` opens port 8443 in it; returns the repository."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    write(repo / "deploy" / "api.yaml", DENY)
    write(repo / "deploy" / "README.md", "# policies\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    write(repo / "deploy" / "api.yaml", OPEN_PORT)
    git(repo, "commit", "-q", "-am", "open 8443")
    return repo
