#!/usr/bin/python3
"""Browser test: a person's session in a web UI against a Transmission-RPC server, in headless Chromium.

  webui_test.py --server shoal|transmission --ui shoal|transmission

Adds a .torrent by file upload and a magnet link, watches a local Shoal seeder bring them to 100%, checks the
data on disk, stops, starts and removes (with and without data), and adds a torrent named
`<img src=x onerror=alert(1)>` that must show as text with no script run. On Shoal's UI it also opens the
details (pieces map, files wanted and priority) and looks at the page on a phone-sized screen.
The server defaults to $SHOAL_WEBUI_SERVER, else shoal (`shoal daemon`). Exit 77 (skip) when a needed binary is absent.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webui_lib import (SHOAL_WEB, TRANSMISSION_WEB, Failure, Processes, make_bytes, run_main, save_screenshot,
                       shoal_binary, start_browser, start_seeder, start_server, temp_work, wait_until,
                       no_dialogs_opened, console_errors)
from webui_pages import make_page

XSS_NAME = "<img src=x onerror=alert(1)>"


def make_payloads(shoal, work):
    """Three torrents over deterministic data: a single file, a folder (added as a magnet) and the XSS name."""
    data = os.path.join(work, "data")
    os.makedirs(os.path.join(data, "tree", "sub"))
    files = {
        "single.bin": make_bytes(3 * 1024 * 1024 + 11, 1),
        "tree/a.bin": make_bytes(700_001, 2),
        "tree/sub/b.txt": make_bytes(123_457, 3),
        XSS_NAME: make_bytes(100_000, 4),
    }
    for path, content in files.items():
        with open(os.path.join(data, path), "wb") as f:
            f.write(content)
    torrents = {}
    for name in ("single.bin", "tree", XSS_NAME):
        out = os.path.join(work, f"t{len(torrents)}.torrent")
        subprocess.run([shoal, "create", os.path.join(data, name), "-o", out, "--piece-size", "32K", "-q"],
                       check=True)
        torrents[name] = out
    info = json.loads(subprocess.run([shoal, "info", "--json", torrents["tree"]], check=True,
                                     capture_output=True, text=True).stdout)
    magnet = f"magnet:?xt=urn:btih:{info['info_hash']}&dn=tree"
    return data, files, torrents, magnet


def same_bytes(expected, path):
    try:
        with open(path, "rb") as f:
            return f.read() == expected
    except OSError:
        return False


def on_disk(content, folder, name):
    """The file's bytes are in `folder` under `name`, or, for the hostile name, under whatever name the
    server made of it on disk (Transmission writes `<` and `>` as `_`)."""
    if same_bytes(content, os.path.join(folder, name)):
        return True
    return name == XSS_NAME and any(same_bytes(content, os.path.join(folder, entry)) for entry in os.listdir(folder)
                                    if os.path.isfile(os.path.join(folder, entry)))


def scenario(checks, server_kind, ui_kind):
    work = temp_work()
    procs = Processes(work)
    driver = None
    try:
        shoal = shoal_binary()
        web_root = SHOAL_WEB if ui_kind == "shoal" else TRANSMISSION_WEB
        server = start_server(server_kind, procs, work, web_root)
        checks.ok(f"{server_kind} server answers RPC, serving {ui_kind}'s UI")
        data, files, torrents, magnet = make_payloads(shoal, work)
        driver = start_browser()
        page = make_page(ui_kind, driver, server.page_url())
        page.load()
        checks.ok("page loaded")

        page.add_files([torrents["single.bin"], torrents[XSS_NAME]])
        page.wait_row("single.bin")
        page.wait_row(XSS_NAME)
        checks.ok("two .torrent files uploaded through the page")
        page.add_url(magnet)
        page.wait_row("tree")
        checks.ok("magnet link added through the page")

        start_seeder(procs, shoal, [(torrents[n], data) for n in ("single.bin", "tree", XSS_NAME)],
                     f"127.0.0.1:{server.peer_port()}")
        seen = set()

        def all_done():
            for name in ("single.bin", "tree", XSS_NAME):
                percent = page.percent(name)
                seen.add(percent)
                if percent != 100:
                    return False
            return True

        wait_until("every row to show 100%", all_done, 180, 0.25)
        checks.ok(f"progress reached 100% on the page (percentages seen: {sorted(p for p in seen if p is not None)})")
        for name, content in files.items():
            wait_until(f"{name} on disk", lambda: on_disk(content, server.download_dir, name), 30)
        checks.ok("downloaded data matches the seeder's byte for byte")

        # The XSS name must be text: the same characters shown, no <img> element made, no script run.
        checks.expect(page.shown_name(XSS_NAME) == XSS_NAME, "the hostile name is shown as text",
                      repr(page.shown_name(XSS_NAME)))
        checks.expect(driver.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0,
                      "no <img> element made from a torrent name")
        checks.expect(no_dialogs_opened(driver), "no alert fired",
                      str(driver.execute_script("return window.__dialogs")))

        if ui_kind == "shoal":
            details_and_phone(checks, driver, page, server, work)

        page.stop("single.bin")
        wait_until("single.bin stopped on the page", lambda: page.is_stopped("single.bin"), 30)
        checks.expect(server.rpc.torrent_named("single.bin", "status")["status"] == 0, "stop reached the server")
        page.start("single.bin")
        wait_until("single.bin seeding again on the page", lambda: page.is_seeding("single.bin"), 30)
        checks.expect(server.rpc.torrent_named("single.bin", "status")["status"] in (5, 6),
                      "start reached the server")

        page.remove("single.bin", delete_data=False)
        wait_until("single.bin gone from the page", lambda: page.row("single.bin") is None, 30)
        checks.expect(server.rpc.torrent_named("single.bin") is None, "removed from the server")
        checks.expect(os.path.exists(os.path.join(server.download_dir, "single.bin")), "its data kept")

        page.remove("tree", delete_data=True)
        wait_until("tree gone from the page", lambda: page.row("tree") is None, 30)
        checks.expect(server.rpc.torrent_named("tree") is None, "removed with data from the server")
        wait_until("tree's data deleted", lambda: not os.path.exists(os.path.join(server.download_dir, "tree")), 30)
        checks.ok("its data deleted")
        checks.expect(no_dialogs_opened(driver), "no alert or error dialog during the session",
                      str(driver.execute_script("return window.__dialogs")))
        if ui_kind == "shoal":
            errors = console_errors(driver)
            checks.expect(not errors, "no error in the page's console", "; ".join(errors))
        save_screenshot(driver, work, f"{ui_kind}-on-{server_kind}-end")
    except Failure:
        if driver is not None:
            save_screenshot(driver, work, f"{ui_kind}-on-{server_kind}-failure")
        for name in ("seeder", "transmission", "shoal-daemon"):
            tail = procs.log_tail(name)
            if tail:
                print(f"--- {name} log:\n{tail}", file=sys.stderr)
        raise
    finally:
        if driver is not None:
            driver.quit()
        procs.close()
        if os.environ.get("SHOAL_KEEP_WORK") == "1":
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def details_and_phone(checks, driver, page, server, work):
    """Shoal's UI only: the details pane (pieces, files wanted/priority) and a phone-sized viewport."""
    page.select("single.bin")
    page.by_id("btn-details").click()
    driver.find_element("css selector", "[data-tab='pieces']").click()
    expected = server.rpc.torrent_named("single.bin", "pieceCount")["pieceCount"]
    held = wait_until("the pieces map", lambda: driver.execute_script(
        "const c = document.getElementById('pieces-map'); return c.offsetParent && c.dataset.held"), 20)
    checks.expect(int(held) == expected, "the pieces map shows every piece held", f"{held} of {expected}")

    page.select("tree")  # the details pane follows the selection
    driver.find_element("css selector", "[data-tab='files']").click()
    wait_until("tree's files listed", lambda: len(driver.find_elements("css selector", "#files-body tr")) == 2, 20)
    names = [e.text for e in driver.find_elements("css selector", "#files-body .fname")]
    checks.expect(sorted(names) == ["tree/a.bin", "tree/sub/b.txt"], "the files tab lists the files", str(names))
    first = driver.find_element("css selector", "#files-body tr[data-index='0'] .wanted")
    first.click()
    wait_until("file 0 unwanted on the server", lambda: server.rpc.torrent_named(
        "tree", "fileStats")["fileStats"][0]["wanted"] is False, 20)
    checks.ok("a file unticked on the page is unwanted on the server")
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("css selector", "#files-body tr[data-index='1'] .priority")).select_by_value("high")
    wait_until("file 1 high priority on the server", lambda: server.rpc.torrent_named(
        "tree", "fileStats")["fileStats"][1]["priority"] == 1, 20)
    checks.ok("a file's priority set on the page reaches the server")
    save_screenshot(driver, work, "shoal-details")
    page.by_id("details-close").click()

    # A phone's screen as Chromium's device emulation makes it (a headless window has a minimum width).
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True})
    wait_until("the page laid out 390 px wide", lambda: driver.execute_script("return window.innerWidth") == 390, 10)
    wait_until("a row on the phone-sized page", lambda: page.row("tree") and page.row("tree").is_displayed(), 10)
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    checks.expect(overflow <= 0, "no sideways scrolling on a 390 px wide screen", f"{overflow}px too wide")
    save_screenshot(driver, work, "shoal-phone")
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--server", choices=("shoal", "transmission"),
                        default=os.environ.get("SHOAL_WEBUI_SERVER", "shoal"))
    parser.add_argument("--ui", choices=("shoal", "transmission"), default="shoal")
    args = parser.parse_args()
    run_main(lambda checks: scenario(checks, args.server, args.ui))


if __name__ == "__main__":
    main()
