"""Dispatch the `oaflow` command (see the package docstring for why it is split)."""

from __future__ import annotations

import importlib
import os
import sys

from oaflow_cli import validate


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["validate"] and not validate.wants_database(args[1:], os.environ):
        validate.command.main(args=args[1:], prog_name="oaflow validate")
        return
    # Every other command needs the application: loaded here, by name, so `validate` never imports it.
    importlib.import_module("webapp.cli").main()
