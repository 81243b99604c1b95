"""The setup wizard: language and region, SIM detection, network, then checking activation.

After a factory reset of a phone bound to a Mi Account with Find Device on, the vendor's answer
stops the wizard at "This device is locked" (the ``account`` step, ``AccountLockPanel``) until
the account's password or the vendor lifts the lock.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, ContentSwitcher, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from phone_sim.device.state import DeviceState
from phone_sim.ui.widgets.account_lock import AccountLockPanel
from phone_sim.ui.widgets.lists import ChoiceList

from .base import PhoneScreen

LANGUAGES = (
    ("en-GB", "English — United Kingdom"),
    ("en-US", "English — United States"),
    ("de-DE", "Deutsch — Deutschland"),
    ("es-CU", "Español — Cuba"),
    ("fa-IR", "فارسی — ایران"),
    ("ar-SY", "العربية — سوريا"),
    ("ru-RU", "Русский — Россия"),
    ("uk-UA", "Українська — Україна"),
    ("zh-CN", "中文 — 中国"),
    ("en-IN", "English — India"),
)
STEPS = ("language", "sims", "network", "activation")
#: how to go on from each step, said under its title
HINTS = {
    "language": "Choose your language and region: ↑↓ to move, Enter to continue.",
    "sims": "Press t to put SIM cards in or take them out; Enter for Next.",
    "network": "Press t to change SIMs or roam; Enter for Next checks activation.",
    "activation": "The phone asks the vendor's activation server.",
    "account": "Type the account and its password; Enter unlocks.",
}
CUSTOM_ROM_NOTE = (
    "[b]Custom ROM[/b]: this phone runs firmware without the vendor's activation client. "
    "Nothing is sent to the vendor, so the vendor can never lock it."
)


class SetupScreen(PhoneScreen):
    CSS_PATH = "setup_screen.tcss"

    def compose_face(self) -> ComposeResult:
        yield Static("", id="step-title")
        yield Static("", id="step-hint")
        with ContentSwitcher(initial="language", id="steps"):
            with Vertical(id="language"):
                yield ChoiceList(
                    *(Option(label, id=code) for code, label in LANGUAGES), id="languages"
                )
            with Vertical(id="sims"):
                with VerticalScroll(classes="step-body"):
                    yield Static("", id="sim-report")
                with Horizontal(classes="buttons"):
                    yield Button("Next", id="sims-next", variant="primary")
            with Vertical(id="network"):
                with VerticalScroll(classes="step-body"):
                    yield Static("", id="network-report")
                with Horizontal(classes="buttons"):
                    yield Button("Next", id="network-next", variant="primary")
            with VerticalScroll(id="activation"):
                yield Static("Checking activation…", id="activation-title")
                yield Static(CUSTOM_ROM_NOTE, id="custom-rom-note")
                yield ProgressBar(total=None, show_eta=False, id="activation-progress")
                yield Static("", id="activation-status")
                with Horizontal(classes="buttons"):
                    yield Button("Retry", id="retry", variant="warning")
                    yield Button("Finish", id="finish", variant="primary")
            with Vertical(id="account"):
                yield AccountLockPanel(id="account-lock")

    def on_mount(self) -> None:
        if self.torn_down:
            return
        self.ready = True
        self.query_one("#retry").display = False
        custom = self.phone.identity.custom_rom
        self.query_one("#custom-rom-note").display = custom
        self.query_one("#finish").display = custom
        self.query_one("#activation-progress").display = not custom
        if custom:
            self.query_one("#activation-title", Static).update("No activation needed")
        if self.phone.account_locked:
            self.show_step("account")
        elif self.phone.state is DeviceState.ACTIVATING:
            self.show_step("activation")
        else:
            self.show_step("language")

    # --- steps ---------------------------------------------------------------------------

    @property
    def step(self) -> str:
        return self.query_one(ContentSwitcher).current or "language"

    def show_step(self, step: str) -> None:
        self.query_one(ContentSwitcher).current = step
        titles = {
            "language": "Welcome",
            "sims": "SIM cards",
            "network": "Mobile network",
            "activation": "Activation",
        }
        title = (
            "[b]Mi Account[/b]  ·  Find Device"
            if step == "account"
            else f"[b]{titles[step]}[/b]  ·  step {STEPS.index(step) + 1} of 4"
        )
        self.query_one("#step-title", Static).update(title)
        self.query_one("#step-hint", Static).update(HINTS[step])
        self.refresh_face()
        focus = {
            "language": "#languages",
            "sims": "#sims-next",
            "network": "#network-next",
            "account": "#account-name",
        }
        if step in focus:
            self.query_one(focus[step]).focus()

    @on(OptionList.OptionSelected, "#languages")
    def _language_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None and self.phone.state is DeviceState.SETUP:
            self.phone.choose_language(event.option.id)
        self.show_step("sims")

    @on(Button.Pressed, "#sims-next")
    def _sims_done(self) -> None:
        self.show_step("network")

    @on(Button.Pressed, "#network-next")
    def _network_done(self) -> None:
        self.show_step("activation")
        if self.phone.identity.custom_rom:
            self.query_one("#finish").focus()
        else:
            self.phone_app.request_activation()

    @on(Button.Pressed, "#finish")
    def _finish_without_vendor(self) -> None:
        self.phone_app.recorder.record("activate")
        self.phone.finish_setup_without_vendor()

    @on(Button.Pressed, "#retry")
    def _retry(self) -> None:
        self.phone_app.request_activation()

    # --- rendering -------------------------------------------------------------------------

    def render_face(self) -> None:
        self.query_one("#sim-report", Static).update(self._sim_report())
        self.query_one("#network-report", Static).update(self._network_report())
        if self.phone.account_locked and self.step != "account":
            self.show_step("account")  # the vendor's answer stopped setup here
            return
        self.query_one(AccountLockPanel).render_phone()
        self._render_activation()

    def _sim_report(self) -> Text:
        text = Text()
        for view in self.phone.slots:
            text.append(f"SIM {view.slot}: ", style="bold")
            if view.sim is None:
                text.append("empty\n\n", style="dim")
                continue
            sim = view.sim
            text.append(f"{sim.label} ({sim.home.territory})\n")
            text.append(f"  ICCID {sim.iccid}\n  home network {sim.home.code}\n", style="dim")
        if not self.phone.has_sim:
            text.append(
                "No SIM card detected. Press t to open the SIM tray, or continue without one."
            )
        else:
            text.append("Press t to change SIM cards.", style="dim")
        return text

    def _network_report(self) -> Text:
        text = Text()
        for view in self.phone.slots:
            if view.sim is None:
                continue
            text.append(f"SIM {view.slot} ({view.sim.label}, home {view.sim.home.code})\n", "bold")
            if view.serving is None:
                text.append("  serving network: searching…\n\n")
                continue
            text.append(f"  serving network: {view.serving.name} {view.serving.code}")
            text.append(f" ({view.serving.territory})\n")
            if view.roaming:
                text.append("  roaming: yes", style="bold yellow")
                text.append(f", away from {view.sim.home.name}\n\n")
            else:
                text.append("  roaming: no (home network)\n\n")
        if not self.phone.has_sim:
            text.append(
                "No mobile network: the phone will use Wi-Fi to reach the activation server."
            )
        return text

    def _render_activation(self) -> None:
        phone = self.phone
        status = self.query_one("#activation-status", Static)
        progress = self.query_one("#activation-progress", ProgressBar)
        retry = self.query_one("#retry", Button)
        if phone.identity.custom_rom:
            return
        if phone.state is DeviceState.ACTIVATING:
            status.update(
                f"Contacting the activation server\n[dim]{self.phone_app.current.client.base_url}[/dim]"
            )
            progress.display = True
            retry.display = False
        elif phone.last_error and self.step == "activation":
            status.update(Text(phone.last_error, style="bold red"))
            progress.display = False
            retry.display = True
            retry.focus()
