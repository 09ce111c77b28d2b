"""Page drivers: the same user actions on Shoal's web UI and on Transmission's own web client."""

from webui_lib import Failure, wait_until

FIND_SHOAL_ROW = """
return [...document.querySelectorAll('#list .row:not([hidden])')]
  .find((row) => row.querySelector('.name').textContent === arguments[0]) || null;
"""

FIND_TRANSMISSION_ROW = """
return [...document.querySelectorAll('#torrent_list li.torrent')]
  .find((row) => row.querySelector('.torrent_name').textContent === arguments[0]) || null;
"""


class ShoalUi:
    name = "shoal"

    def __init__(self, driver, url):
        self.driver = driver
        self.url = url + ("&" if "?" in url else "?") + "interval=500"

    def load(self):
        self.driver.get(self.url)
        wait_until("Shoal's UI to draw its first list",
                   lambda: self.driver.execute_script("return document.documentElement.dataset.firstRenderMs"), 30)

    def by_id(self, element_id):
        return self.driver.find_element("id", element_id)

    def row(self, name):
        return self.driver.execute_script(FIND_SHOAL_ROW, name)

    def wait_row(self, name, timeout=60):
        return wait_until(f"a row named {name!r}", lambda: self.row(name), timeout)

    def add_files(self, paths):
        self.by_id("btn-add").click()
        self.by_id("add-file").send_keys("\n".join(paths))
        self.by_id("add-confirm").click()
        wait_until("the add dialog to close", lambda: not self.driver.execute_script(
            "return document.getElementById('add-dialog').open"), 20)

    def add_url(self, url):
        self.by_id("btn-add").click()
        self.by_id("add-url").send_keys(url)
        self.by_id("add-confirm").click()
        wait_until("the add dialog to close", lambda: not self.driver.execute_script(
            "return document.getElementById('add-dialog').open"), 20)

    def percent(self, name):
        row = self.row(name)
        return None if row is None else int(row.get_attribute("data-percent"))

    def state(self, name):
        row = self.row(name)
        return None if row is None else row.get_attribute("data-state")

    def is_stopped(self, name):
        return self.state(name) == "stopped"

    def is_seeding(self, name):
        return self.state(name) == "seeding"

    def shown_name(self, name):
        return self.driver.execute_script("return arguments[0].querySelector('.name').textContent", self.row(name))

    def select(self, name):
        self.wait_row(name).find_element("css selector", ".name").click()
        wait_until(f"{name!r} selected", lambda: "selected" in self.row(name).get_attribute("class"), 10)

    def stop(self, name):
        self.select(name)
        self.by_id("btn-stop").click()

    def start(self, name):
        self.select(name)
        self.by_id("btn-start").click()

    def remove(self, name, delete_data):
        self.select(name)
        self.by_id("btn-remove").click()
        box = self.by_id("remove-data")
        if box.is_selected() != delete_data:
            box.click()
        self.by_id("remove-confirm").click()


class TransmissionUi:
    name = "transmission"

    def __init__(self, driver, url):
        self.driver = driver
        self.url = url

    def load(self):
        self.driver.get(self.url)
        wait_until("Transmission's web client to load",
                   lambda: self.driver.execute_script("return !!window.transmission && !!window.transmission.remote"),
                   30)
        # Its refresh period is a preference: poll every second, as a person would wait for it anyway.
        self.driver.execute_script("transmission.setPref && transmission.setPref('refresh_rate', 1)")

    def by_id(self, element_id):
        return self.driver.find_element("id", element_id)

    def row(self, name):
        return self.driver.execute_script(FIND_TRANSMISSION_ROW, name)

    def wait_row(self, name, timeout=60):
        return wait_until(f"a row named {name!r}", lambda: self.row(name), timeout)

    def open_dialog(self):
        self.by_id("toolbar-open").click()
        wait_until("the upload dialog", lambda: self.by_id("upload_container").is_displayed(), 10)

    def confirm_upload(self):
        self.by_id("upload_confirm_button").click()
        wait_until("the upload dialog to close", lambda: not self.by_id("upload_container").is_displayed(), 10)

    def add_files(self, paths):
        # Its dialog adds only what is chosen when Upload is pressed: one file per opening keeps it simple.
        for path in paths:
            self.open_dialog()
            self.by_id("torrent_upload_file").send_keys(path)
            self.confirm_upload()

    def add_url(self, url):
        self.open_dialog()
        self.by_id("torrent_upload_url").send_keys(url)
        self.confirm_upload()

    def percent(self, name):
        row = self.row(name)
        if row is None:
            return None
        width = self.driver.execute_script(
            "const bar = arguments[0].querySelector('.torrent_progress_bar.complete');"
            "return bar.style.display === 'none' ? '0%' : bar.style.width;", row)
        return int(float(width.rstrip("%") or 0))

    def details_text(self, name):
        row = self.row(name)
        return "" if row is None else row.find_element("css selector", ".torrent_peer_details").text

    def is_stopped(self, name):
        return self.details_text(name) in ("Paused", "Seeding complete")

    def is_seeding(self, name):
        return self.details_text(name).startswith("Seeding to")

    def shown_name(self, name):
        return self.driver.execute_script("return arguments[0].querySelector('.torrent_name').textContent",
                                          self.row(name))

    def select(self, name):
        self.wait_row(name).find_element("css selector", ".torrent_name").click()
        wait_until(f"{name!r} selected", lambda: "selected" in self.row(name).get_attribute("class"), 10)

    def stop(self, name):
        self.select(name)
        self.by_id("toolbar-pause").click()

    def start(self, name):
        self.select(name)
        self.by_id("toolbar-start").click()

    def remove(self, name, delete_data):
        from selenium.webdriver.common.action_chains import ActionChains

        self.select(name)
        if delete_data:
            ActionChains(self.driver).context_click(self.row(name)).perform()
            item = wait_until("the context menu", lambda: next(
                (e for e in self.driver.find_elements("css selector", "[data-command='remove_data']")
                 if e.is_displayed()), None), 10)
            item.click()
        else:
            self.by_id("toolbar-remove").click()
        wait_until("the confirm dialog", lambda: self.by_id("dialog_confirm_button").is_displayed(), 10)
        self.by_id("dialog_confirm_button").click()


def make_page(kind, driver, url):
    if kind == "shoal":
        return ShoalUi(driver, url)
    if kind == "transmission":
        return TransmissionUi(driver, url)
    raise Failure(f"unknown UI {kind!r}")
