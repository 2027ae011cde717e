"""What a worker holds in memory on a commune centre's modest machine: libraries needed a few times
a month are imported when they are used, not at start."""
import os
import subprocess
import sys


def test_a_started_centre_has_not_loaded_the_spreadsheet_library_until_a_spreadsheet_is_made(tmp_path):
    # A fresh interpreter: the test process itself has imported everything long ago.
    probe = (
        "import sys\n"
        "from hangdoi.app import create_app\n"
        "create_app()\n"
        "print('openpyxl' in sys.modules)\n"
        "from hangdoi.spreadsheet import inert\n"
        "assert inert('=1+1') == \"'=1+1\"\n"
        "from hangdoi.services.reports.export import to_xlsx\n"
        "print('openpyxl' in sys.modules)\n"
    )
    env = {**os.environ, "HANGDOI_DATA_DIR": str(tmp_path)}
    env.pop("HANGDOI_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]
