"""An HTTP SMS gateway: the request is a template the centre fills in from its provider's
documentation (brand-name SMS APIs in Vietnam take a JSON or form body with the number and text).

    {"url": "https://sms.example.vn/api/send", "method": "POST",
     "headers": {"Authorization": "Bearer …"},
     "body": "{\"to\": \"{phone84}\", \"text\": {text_json}, \"brand\": \"TTHCC\"}",
     "success": "\"status\":\"ok\""}            # optional: text the answer must contain

Placeholders: {phone} (0912345678), {phone84} (84912345678), {text}, {text_json} (a JSON string
with its quotes), {text_url} (form-encoded). A 2xx answer (containing `success`, when set) is sent.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from drivers.sms import Sent


class HttpGateway:
    name = "http"

    def __init__(self, url: str, method: str = "POST", headers: dict | None = None, body: str = "",
                 success: str | None = None, timeout: float = 10.0):
        self.url, self.method, self.headers = url, method.upper(), dict(headers or {})
        self.body, self.success, self.timeout = body, success, timeout

    def send(self, phone: str, text: str) -> Sent:
        values = {"phone": phone, "phone84": "84" + phone[1:] if phone.startswith("0") else phone,
                  "text": text, "text_json": json.dumps(text, ensure_ascii=False),
                  "text_url": urllib.parse.quote_plus(text)}
        url = _fill(self.url, {**values, "text": values["text_url"]})
        data = _fill(self.body, values).encode() if self.body else None
        request = urllib.request.Request(url, data=data, method=self.method, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                reply = answer.read(4096).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return Sent(False, f"HTTP {exc.code}: {exc.read(200).decode('utf-8', 'replace')}"[:200])
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return Sent(False, f"gateway: {exc}"[:200])
        if self.success and self.success not in reply:
            return Sent(False, f"gateway answered: {reply}"[:200])
        return Sent(True, reply[:200])


def _fill(template: str, values: dict) -> str:
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out
