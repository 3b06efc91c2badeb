"""`rasa run …` with the API token from the environment (HAMROH_ENGINE_TOKEN) instead of the command
line, where every local user could read it in the process list. Refuses to start without the tokens."""

import os
import sys

from rasa.__main__ import main

if __name__ == "__main__":
    missing = [name for name in ("HAMROH_ENGINE_TOKEN", "HAMROH_INTERNAL_TOKEN") if not os.environ.get(name)]
    if missing:
        sys.exit(f"engine: set {', '.join(missing)} (the engine's API token and the app's internal token)")
    sys.argv = ["rasa", *sys.argv[1:], "--auth-token", os.environ["HAMROH_ENGINE_TOKEN"]]
    main()
