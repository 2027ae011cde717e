"""Static assets shared by every page: the Be Vietnam Pro font (from its PyPI package), browser
libraries (from node_modules, installed by `npm ci`, never committed), and our own CSS and JS."""
from __future__ import annotations

from pathlib import Path

import fontpkg_be_vietnam_pro
from flask import Blueprint, abort, send_from_directory

from hangdoi.web.permissions import ANYONE, allow

FONT_DIR = Path(fontpkg_be_vietnam_pro.__file__).parent / "files"
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
FONT_WEIGHTS = {"regular": "Regular", "medium": "Medium", "semibold": "SemiBold", "bold": "Bold",
                "extrabold": "ExtraBold"}
VENDOR = {"socket.io.min.js": NODE_MODULES / "socket.io-client" / "dist",
          "chart.umd.min.js": NODE_MODULES / "chart.js" / "dist"}
CACHE_SECONDS = 24 * 3600

assets = Blueprint("assets", __name__, url_prefix="/assets", static_folder="static", static_url_path="/static")


@assets.get("/fonts/be-vietnam-pro-<weight>.ttf")
@allow(ANYONE)
def font(weight: str):
    if weight not in FONT_WEIGHTS:
        abort(404)
    return send_from_directory(FONT_DIR, f"BeVietnamPro-{FONT_WEIGHTS[weight]}.ttf", max_age=CACHE_SECONDS)


@assets.get("/vendor/<name>")
@allow(ANYONE)
def vendor(name: str):
    if name not in VENDOR or not (VENDOR[name] / name).is_file():
        abort(404)  # not installed: scripts/setup runs `npm ci`
    return send_from_directory(VENDOR[name], name, max_age=CACHE_SECONDS)
