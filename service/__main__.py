"""Run the service: ``python -m service``."""

from __future__ import annotations

import logging
import sys

from core.settings import Settings, SettingsError
from service.app import create_app
from service.deps import build_deps
from service.logs import configure_logging


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format)
    app = create_app(build_deps(settings))
    app.run(host=settings.host, port=settings.port, single_process=True, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
