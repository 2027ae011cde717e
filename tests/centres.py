"""Small centres the tests build, each shaped for what a test needs to show."""
from datetime import datetime, timezone

from hangdoi.services.auth import hash_password

PASSWORD = "matkhau-test"
PASSWORD_HASH = hash_password(PASSWORD)

# Monday 23 November 2026, 09:00 in Hà Nội (02:00 UTC): a normal working morning.
MONDAY_9AM = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def officer(username, role="officer"):
    return {"username": username, "full_name": username.title(), "role": role,
            "password_hash": PASSWORD_HASH}


SMALL_CENTRE = {
    "name": "Trung tâm thử nghiệm",
    "domains": [
        {"code": "HT", "name": "Tư pháp – Hộ tịch", "series": {"first": 1001, "last": 1999},
         "services": [{"code": "HT01", "name": "Đăng ký khai sinh"},
                      {"code": "HT02", "name": "Đăng ký kết hôn"}]},
        {"code": "CT", "name": "Chứng thực", "series": {"prefix": "A", "first": 1, "last": 999},
         "services": [{"code": "CT01", "name": "Chứng thực bản sao"}]},
        {"code": "DD", "name": "Đất đai", "series": {"first": 3001, "last": 3003},
         "services": [{"code": "DD01", "name": "Đăng ký biến động đất đai"}]},
        {"code": "XD", "name": "Xây dựng", "series": {"first": 4001, "last": 4999},
         "services": [{"code": "XD01", "name": "Cấp giấy phép xây dựng", "daily_cap": 2},
                      {"code": "XD02", "name": "Thủ tục tạm ngừng", "active": False}]},
    ],
    "counters": [
        {"number": 1, "name": "Quầy 1", "primary": ["HT"], "backup": ["CT"]},
        {"number": 2, "name": "Quầy 2", "primary": ["CT"], "backup": ["HT"]},
        {"number": 3, "name": "Quầy 3", "primary": ["DD", "XD"]},
    ],
    "officers": [officer("an"), officer("binh"), officer("chi"), officer("dung", "manager"),
                 officer("quantri", "admin")],
    "kiosks": [{"name": "k1"}, {"name": "k2"}],
}


# A second centre on the same installation: its own services (some with the same codes), counters,
# officers and numbering; "tinh" looks after the province's centres from this one.
NEIGHBOUR_CENTRE = {
    "name": "Trung tâm phường bên cạnh",
    "domains": [
        {"code": "HT", "name": "Tư pháp – Hộ tịch", "series": {"first": 1001, "last": 1999},
         "services": [{"code": "HT01", "name": "Đăng ký khai sinh"}]},
    ],
    "counters": [{"number": 1, "name": "Quầy 1", "primary": ["HT"]}],
    "officers": [officer("lan"), officer("quantri2", "admin"), officer("tinh", "province")],
    "kiosks": [{"name": "k1"}],
}


def open_now(spec):
    """For tests on real time whose answers depend on the hour (waiting-time estimates near closing):
    the centre is open 07:00–17:00 every day, in a fixed-offset zone where it is now 9–10 a.m."""
    from datetime import datetime, timezone
    hours = (9 - datetime.now(timezone.utc).hour + 12) % 24 - 12     # -12 … +11
    zone = "Etc/GMT" if hours == 0 else f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"   # POSIX signs
    return {**spec, "timezone": zone, "opening_hours": {"sessions": [["07:00", "17:00"]], "weekdays": list(range(7))}}


def today_in(spec):
    """The centre's date now: with `open_now` its zone can be a day ahead of or behind the machine's."""
    from datetime import datetime
    from zoneinfo import ZoneInfo
    return datetime.now(ZoneInfo(spec["timezone"])).date()


def always_open(spec):
    return {**spec, "settings": {**spec.get("settings", {}), "accept_outside_hours": True}}
