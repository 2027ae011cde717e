"""Build a whole centre from one plain description: the demo, the tests and the simulator use it.

    {"name": "...", "timezone": "Asia/Ho_Chi_Minh", "opening_hours": {...}, "settings": {...},
     "priorities": [["cao_tuoi", "Người cao tuổi"], ...],            # optional, defaults below
     "domains": [{"code": "HT", "name": "Tư pháp – Hộ tịch",
                  "series": {"prefix": "", "first": 1001, "last": 1999},
                  "services": [{"code": "HT01", "name": "Đăng ký khai sinh", "daily_cap": null}]}],
     "counters": [{"number": 1, "name": "Quầy 1", "primary": ["HT"], "backup": ["CT01"]}],
     "officers": [{"username": "canbo1", "full_name": "...", "role": "officer", "password": "..."}],
     "displays": [{"name": "Sảnh tầng 1", "counters": [1, 2, 3]}],    # key: generated unless given
     "kiosks": [{"name": "kiosk-1", "printer": {"transport": "network", "host": "10.0.0.5"}}]}
                                   # (or "password_hash" instead of "password", to skip hashing)

A counter's `primary`/`backup` lists name services by code, or a whole domain by its code.
"""
from __future__ import annotations

import secrets

from hangdoi.engine.hours import DEFAULT_HOURS
from hangdoi.models import (
    BACKUP,
    PRIMARY,
    Centre,
    Counter,
    CounterService,
    Display,
    Domain,
    Kiosk,
    Officer,
    PriorityCategory,
    Service,
    TicketSeries,
)
from hangdoi.services.auth import hash_password

DEFAULT_PRIORITIES = [
    ["cao_tuoi", "Người cao tuổi"],
    ["khuyet_tat", "Người khuyết tật"],
    ["mang_thai", "Phụ nữ mang thai"],
    ["nguoi_co_cong", "Người có công với cách mạng"],
    ["tre_em", "Trẻ em dưới 6 tuổi"],
]


def create_centre(db, spec: dict) -> dict:
    """Create the centre and everything in it; returns ids by code for callers that need them."""
    with db.write() as s:
        centre = Centre(name=spec["name"], address=spec.get("address", ""),
                        timezone=spec.get("timezone", "Asia/Ho_Chi_Minh"),
                        opening_hours=spec.get("opening_hours", DEFAULT_HOURS),
                        closed_days=spec.get("closed_days", []),
                        settings=spec.get("settings", {}), seq=0)
        s.add(centre)
        s.flush()
        for position, (code, name) in enumerate(spec.get("priorities", DEFAULT_PRIORITIES)):
            s.add(PriorityCategory(centre_id=centre.id, code=code, name=name, position=position,
                                   active=True))
        services: dict[str, Service] = {}
        by_domain: dict[str, list[Service]] = {}
        for d_pos, d in enumerate(spec.get("domains", [])):
            domain = Domain(centre_id=centre.id, code=d["code"], name=d["name"], position=d_pos)
            series_spec = d.get("series", {})
            series = TicketSeries(centre_id=centre.id, code=d["code"],
                                  prefix=series_spec.get("prefix", ""),
                                  first_number=series_spec.get("first", 1),
                                  last_number=series_spec.get("last", 999))
            s.add_all([domain, series])
            s.flush()
            for s_pos, sv in enumerate(d.get("services", [])):
                service = Service(centre_id=centre.id, domain_id=domain.id, series_id=series.id,
                                  code=sv["code"], name=sv["name"], active=sv.get("active", True),
                                  daily_cap=sv.get("daily_cap"), instant=sv.get("instant", False),
                                  position=s_pos)
                s.add(service)
                services[sv["code"]] = service
                by_domain.setdefault(d["code"], []).append(service)
        s.flush()
        counters, tablets = {}, {}
        for c in spec.get("counters", []):
            counter = Counter(centre_id=centre.id, number=c["number"],
                              name=c.get("name", f"Quầy {c['number']}"), active=True, paused=False,
                              priority_streak=0, rating_key=c.get("rating_key") or secrets.token_urlsafe(16))
            s.add(counter)
            s.flush()
            counters[c["number"]] = counter.id
            tablets[c["number"]] = counter.rating_key
            roles: dict[int, str] = {}
            for role in (BACKUP, PRIMARY):  # primary last, so it wins where both name a service
                for code in c.get(role, []):
                    for service in by_domain.get(code) or [services[code]]:
                        roles[service.id] = role
            s.add_all(CounterService(counter_id=counter.id, service_id=sid, role=role)
                      for sid, role in roles.items())
        officers = {}
        for o in spec.get("officers", []):
            officer = Officer(centre_id=centre.id, username=o["username"], full_name=o["full_name"],
                              role=o.get("role", "officer"),
                              password_hash=o.get("password_hash") or hash_password(o["password"]),
                              active=True)
            s.add(officer)
            s.flush()
            officers[o["username"]] = officer.id
        displays = {}
        for d in spec.get("displays", []):
            display = Display(centre_id=centre.id, name=d["name"], key=d.get("key") or secrets.token_urlsafe(16),
                              counters=d.get("counters", []), options=d.get("options", {}), active=True)
            s.add(display)
            displays[d["name"]] = display.key
        kiosks = {}
        for k in spec.get("kiosks", []):
            kiosk = Kiosk(centre_id=centre.id, name=k["name"], key=k.get("key") or secrets.token_urlsafe(16),
                          printer=k.get("printer"), options=k.get("options", {}), active=True)
            s.add(kiosk)
            kiosks[k["name"]] = kiosk.key
        return {"centre": centre.id, "services": {k: v.id for k, v in services.items()},
                "counters": counters, "officers": officers, "displays": displays, "kiosks": kiosks, "tablets": tablets}
