#!/usr/bin/env python3
# Checks the Flatpak manifest without building it (no network, no flatpak-builder
# here): JSON syntax, every downloaded source pinned by sha256 over https, and the
# sandbox: only the finish-args listed in app/data/FLATPAK.md, never a file
# system, the host or a bus name. Then the two app icons: well-formed SVG of the
# expected size, nothing embedded, nothing scripted.
# Usage: check-flatpak.py MANIFEST.json ICON.svg SYMBOLIC-ICON.svg
# SPDX-License-Identifier: GPL-3.0-or-later
import json
import re
import sys
import xml.etree.ElementTree as ET

ALLOWED_FINISH_ARGS = {
    "--socket=wayland",
    "--socket=fallback-x11",
    "--share=ipc",
    "--device=dri",
    "--share=network",
}
REQUIRED_FINISH_ARGS = ALLOWED_FINISH_ARGS
SVG = "{http://www.w3.org/2000/svg}"

failures = []


def fail(message):
    failures.append(message)


def check_manifest(path):
    with open(path, encoding="utf-8") as f:
        try:
            m = json.load(f)
        except json.JSONDecodeError as e:
            fail(f"{path}: not JSON: {e}")
            return
    if m.get("id") != "org.supolka.Supolka":
        fail("id must be org.supolka.Supolka")
    if m.get("runtime") != "org.gnome.Platform" or m.get("sdk") != "org.gnome.Sdk":
        fail("runtime and sdk must be org.gnome.Platform and org.gnome.Sdk")
    if not re.fullmatch(r"\d+", str(m.get("runtime-version", ""))):
        fail("runtime-version must be a GNOME release number")
    if m.get("command") != "supolka":
        fail("command must be supolka")
    args = m.get("finish-args", [])
    for a in args:
        if a not in ALLOWED_FINISH_ARGS:
            fail(f"finish-arg {a} is not allowed (see app/data/FLATPAK.md)")
    for a in REQUIRED_FINISH_ARGS:
        if a not in args:
            fail(f"finish-arg {a} is missing")
    if len(set(args)) != len(args):
        fail("a finish-arg is given twice")

    modules = m.get("modules", [])
    names = [mod.get("name") for mod in modules if isinstance(mod, dict)]
    for needed in ("libsodium", "sqlcipher", "libcsv", "libqrencode", "supolka"):
        if needed not in names:
            fail(f"module {needed} is missing")
    if names and names[-1] != "supolka":
        fail("supolka must be the last module")
    if "libmicrohttpd" in names:
        fail("libmicrohttpd is for the relay only; the app must not ship it")
    for mod in modules:
        if not isinstance(mod, dict):
            fail("modules must be objects (no external module files)")
            continue
        for src in mod.get("sources", []):
            kind = src.get("type")
            if kind in ("archive", "file"):
                if not str(src.get("url", "")).startswith("https://"):
                    fail(f"{mod['name']}: source URL must be https")
                if not re.fullmatch(r"[0-9a-f]{64}", str(src.get("sha256", ""))):
                    fail(f"{mod['name']}: source must be pinned by sha256")
            elif kind == "git":
                if not re.fullmatch(r"[0-9a-f]{40}", str(src.get("commit", ""))):
                    fail(f"{mod['name']}: git source must be pinned by commit")
            elif kind == "dir":
                if mod.get("name") != "supolka":
                    fail(f"{mod['name']}: only supolka itself builds from the tree")
            else:
                fail(f"{mod['name']}: unexpected source type {kind}")
        if mod.get("name") == "supolka":
            opts = mod.get("config-opts", [])
            if "-Drelay=disabled" not in opts or "-Dgui=enabled" not in opts:
                fail("supolka must be configured -Dgui=enabled -Drelay=disabled")


def check_icon(path, size, symbolic):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        fail(f"{path}: not well-formed XML: {e}")
        return
    if root.tag != SVG + "svg":
        fail(f"{path}: not an SVG document")
        return
    if root.get("width") != str(size) or root.get("height") != str(size):
        fail(f"{path}: must be {size}x{size}")
    if root.get("viewBox") != f"0 0 {size} {size}":
        fail(f"{path}: viewBox must be 0 0 {size} {size}")
    colours = set()
    for el in root.iter():
        tag = el.tag.replace(SVG, "")
        if tag in ("script", "image", "foreignObject", "a"):
            fail(f"{path}: <{tag}> is not allowed in an icon")
        for attr, value in el.attrib.items():
            if attr.startswith("on") or "href" in attr:
                fail(f"{path}: attribute {attr} is not allowed in an icon")
            if attr == "fill" and value != "none":
                colours.add(value.lower())
        if tag in ("linearGradient", "radialGradient") and symbolic:
            fail(f"{path}: a symbolic icon has no gradients")
    if symbolic and len(colours) != 1:
        fail(f"{path}: a symbolic icon uses one colour, found {sorted(colours)}")


if len(sys.argv) != 4:
    sys.exit("usage: check-flatpak.py MANIFEST.json ICON.svg SYMBOLIC-ICON.svg")
check_manifest(sys.argv[1])
check_icon(sys.argv[2], 128, False)
check_icon(sys.argv[3], 16, True)
for f in failures:
    print(f"not ok: {f}")
if failures:
    sys.exit(1)
print("ok: manifest pinned and sandboxed as documented; icons well-formed")
