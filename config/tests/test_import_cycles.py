"""Every module of the project can be the first one imported.

An import cycle between modules often works only because something else loaded one of them
first: the admin's autodiscovery, or an app's ready(). So each module is imported in a
process where Django has loaded the settings and the models and nothing else (no
AppConfig.ready() runs). The process is a fork of one that did that much, so each module starts from the same
clean state without paying for Django's start-up again.
"""

import subprocess
import sys
from pathlib import Path

from django.conf import settings

PACKAGES = ["config", "customers", "segments", "loyalty", "privacy"]

IMPORT_EACH_FIRST = r"""
import importlib
import os
import sys
import traceback

import django
from django.apps import AppConfig

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
create_app_config = AppConfig.create.__func__


def create_without_ready(cls, entry):
    app_config = create_app_config(cls, entry)
    app_config.ready = lambda: None
    return app_config


AppConfig.create = classmethod(create_without_ready)
django.setup()
failed = []
for module in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(module)
        except BaseException:
            print(f"--- import {module} first:", file=sys.stderr)
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(1)
        os._exit(0)
    if os.waitpid(pid, 0)[1]:
        failed.append(module)
print(" ".join(failed))
"""


def project_modules():
    base = Path(settings.BASE_DIR)
    modules = []
    for package in PACKAGES:
        for path in sorted((base / package).rglob("*.py")):
            parts = path.relative_to(base).with_suffix("").parts
            if "migrations" in parts or "tests" in parts:
                continue
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def test_the_project_modules_are_found():
    modules = project_modules()
    assert {"config.settings", "customers.bulk.chunks", "customers.management.commands.bench"} <= set(modules)
    assert not [module for module in modules if ".tests" in module or ".migrations" in module]


def test_every_module_imports_as_the_first_module_of_a_fresh_process():
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_FIRST, *project_modules()],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [], result.stderr
