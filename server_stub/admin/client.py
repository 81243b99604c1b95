"""A small typed client for the vendor server's admin API, used by ``vendor-server admin``.

Other front ends (the TUI's vendor console) use it too::

    client = AdminClient("http://127.0.0.1:8421", read_token_file(Path("DATA/vendor/admin.token")))
    for device in client.devices():
        print(device.serial, device.state)
    client.lock("867812040000010", reason="investigation")

Answers are the pydantic models of :mod:`server_stub.admin.models` (frozen, typed). Every
failure is an :class:`AdminClientError`: :class:`AdminHttpError` for an error answer (with its
status and code), :class:`AdminUnreachable` when there is no answer at all.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ValidationError

from server_stub.admin.models import (
    AuditPage,
    BulkRelease,
    ClockView,
    DeviceDetail,
    DeviceList,
    DeviceView,
    FleetPage,
    PolicyReplaced,
    PolicyView,
    UnblockCode,
)
from server_stub.datadir.admin_token import TOKEN_ENV
from server_stub.datadir.settings import DEFAULT_HOST, DEFAULT_PORT
from server_stub.errors import VendorServerError

if TYPE_CHECKING:
    import requests

DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
DEFAULT_TIMEOUT = 10.0

_M = TypeVar("_M", bound=BaseModel)


class AdminClientError(VendorServerError):
    """The admin API could not do what was asked."""


class AdminUnreachable(AdminClientError):
    """No answer: the server is not running there, or the connection failed."""


class AdminHttpError(AdminClientError):
    """The server answered with an error (``status``, machine-readable ``code``)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def read_token_file(path: Path) -> str:
    """The token in ``path`` (as the server writes it: one line)."""
    try:
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise AdminClientError(f"{path}: cannot read the admin token: {exc}") from exc
    if not token:
        raise AdminClientError(f"{path}: the admin token file is empty")
    return token


def token_from_env() -> str | None:
    return os.environ.get(TOKEN_ENV) or None


class AdminClient:
    """The admin API of one vendor server, authenticated with its bearer token."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        token: str = "",
        *,
        timeout: float = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._token = token
        #: made at the first call: a client made with the TUI's world must not load ``requests``
        #: before the first frame (docs/decisions/tui-first-frame-imports.md)
        self._session = session

    @property
    def _http(self) -> requests.Session:
        if self._session is None:
            import requests

            self._session = requests.Session()
            if _is_loopback_url(self.base_url):
                # A proxy from the environment must not sit between us and a local server.
                self._session.trust_env = False
        return self._session

    # --- devices ---------------------------------------------------------------------------

    def devices(self) -> list[DeviceView]:
        return self._call("GET", "/admin/devices", DeviceList).devices

    def fleet(self, *, limit: int = 200, idents: Sequence[str] = ()) -> FleetPage:
        """The devices named (serials or IMEIs), then the ``limit`` pending holds placed last and
        the ``limit`` devices met last, and how many the server knows (``GET /admin/fleet``)."""
        params: list[tuple[str, str | int]] = [("limit", limit), *(("ident", i) for i in idents)]
        return self._call("GET", "/admin/fleet", FleetPage, params=params)

    def device(self, ident: str) -> DeviceDetail:
        """One device by serial or IMEI (or a pending hold on one)."""
        return self._call("GET", f"/admin/devices/{_segment(ident)}", DeviceDetail)

    def lock(self, ident: str, *, reason: str, message: str | None = None) -> DeviceView:
        body = {"reason": reason, "message": message}
        return self._call("POST", f"/admin/devices/{_segment(ident)}/lock", DeviceView, json=body)

    def release(self, ident: str, *, reason: str) -> DeviceView:
        path = f"/admin/devices/{_segment(ident)}/release"
        return self._call("POST", path, DeviceView, json={"reason": reason})

    def release_all(self, *, reason: str) -> BulkRelease:
        return self._call("POST", "/admin/release", BulkRelease, json={"reason": reason})

    def clear_account(self, ident: str, *, reason: str) -> DeviceView:
        """Unbind the device from its account (its account lock lifts at its next contact)."""
        path = f"/admin/devices/{_segment(ident)}/account/clear"
        return self._call("POST", path, DeviceView, json={"reason": reason})

    def unblock_code(self, ident: str, challenge: str, *, reason: str | None = None) -> UnblockCode:
        """The code answering ``challenge`` on that device (and the release it stands for)."""
        path = f"/admin/devices/{_segment(ident)}/unblock-code"
        body = {"challenge": challenge, "reason": reason}
        return self._call("POST", path, UnblockCode, json=body)

    # --- policy, audit, clock --------------------------------------------------------------

    def policy(self) -> PolicyView:
        return self._call("GET", "/admin/policy", PolicyView)

    def set_policy(self, text: str) -> PolicyReplaced:
        headers = {"Content-Type": "application/toml; charset=utf-8"}
        return self._call(
            "PUT", "/admin/policy", PolicyReplaced, data=text.encode("utf-8"), headers=headers
        )

    def audit(
        self, *, after_id: int | None = None, limit: int = 100, serial: str | None = None
    ) -> AuditPage:
        """The newest ``limit`` entries, or (with ``after_id``) those that follow it."""
        params: dict[str, Any] = {"limit": limit}
        if after_id is not None:
            params["after_id"] = after_id
        if serial is not None:
            params["serial"] = serial
        return self._call("GET", "/admin/audit", AuditPage, params=params)

    def clock(self) -> ClockView:
        return self._call("GET", "/admin/clock", ClockView)

    def advance_clock(self, seconds: int) -> ClockView:
        return self._call("POST", "/admin/clock/advance", ClockView, json={"seconds": seconds})

    # --- plumbing --------------------------------------------------------------------------

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, method: str, path: str, model: type[_M], **kwargs: Any) -> _M:
        import requests  # loaded by self._http below already

        headers = {"Authorization": f"Bearer {self._token}", **kwargs.pop("headers", {})}
        try:
            response = self._http.request(
                method, self.base_url + path, headers=headers, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise AdminUnreachable(
                f"cannot reach the vendor server at {self.base_url}: {exc}"
            ) from exc
        if response.status_code != 200:
            raise _http_error(response)
        try:
            return model.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            raise AdminClientError(
                f"{method} {path}: the server's answer is not what this client understands: {exc}"
            ) from exc


def _http_error(response: requests.Response) -> AdminHttpError:
    try:
        detail = response.json()["error"]
        return AdminHttpError(response.status_code, str(detail["code"]), str(detail["message"]))
    except (ValueError, KeyError, TypeError):
        # Not our server's error body (a proxy's page, say): report the status alone.
        return AdminHttpError(response.status_code, "http_error", response.reason or "error")


def _segment(ident: str) -> str:
    return quote(ident, safe="")


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
