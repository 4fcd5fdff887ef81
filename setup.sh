#!/usr/bin/env bash
# One-time set-up: the system libraries for headless MuJoCo rendering (EGL,
# with OSMesa as fallback) when missing, then a virtual environment in .venv
# with the pinned requirements and vmail_tf itself (editable). Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")"

RENDER_PACKAGES="libegl1 libegl-mesa0 libopengl0 libgl1-mesa-dri libosmesa6"
missing=""
if command -v dpkg >/dev/null; then
  for package in $RENDER_PACKAGES; do
    dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
  done
fi
if [ -n "$missing" ]; then
  echo "Installing rendering libraries:$missing"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# pip below 24.1: newer pips refuse the metadata of ROBEL 0.1.2 (D'Claw).
.venv/bin/python -m pip install -q "pip>=23,<24.1"
.venv/bin/python -m pip install -q -r requirements.txt
.venv/bin/python -m pip install -q --no-deps -r requirements-robel.txt
# Baoding balls: the Shadow Hand MJCF and meshes in gymnasium-robotics, read as
# files only (its Python envs fail under MuJoCo 3.17), so none of its dependencies.
.venv/bin/python -m pip install -q --no-deps gymnasium-robotics==1.4.2
.venv/bin/python -m pip install -q --no-deps -e .   # vmail_tf importable from anywhere
echo "Set-up done: use .venv/bin/python"
