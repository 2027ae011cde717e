"""A realistic commune-level centre for trying the system: 7 domains, 22 procedures, 6 counters."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from .catalogue import create_centre
from .clock import local_day
from .history import write_history
from .models import Counter, Centre, Display, Kiosk

DEMO_CENTRE = {
    "name": "Trung tâm Phục vụ hành chính công xã Tân Hòa",
    "address": "Số 1 đường Trần Phú, xã Tân Hòa",
    "timezone": "Asia/Ho_Chi_Minh",
    "opening_hours": {"sessions": [["07:30", "11:30"], ["13:30", "17:00"]], "weekdays": [0, 1, 2, 3, 4]},
    # The demo must be usable whenever someone tries it, so it also issues outside office hours.
    "settings": {"accept_outside_hours": True, "priority_streak_limit": 2,
                 # Tickets are "printed" into the data directory: a PNG and the ESC/POS bytes each.
                 "printer": {"transport": "preview", "width": 576}},
    "domains": [
        {"code": "HT", "name": "Tư pháp – Hộ tịch", "series": {"first": 1001, "last": 1999},
         "services": [
             {"code": "HT01", "name": "Đăng ký khai sinh"},
             {"code": "HT02", "name": "Đăng ký kết hôn"},
             {"code": "HT03", "name": "Đăng ký khai tử"},
             {"code": "HT04", "name": "Cấp bản sao trích lục hộ tịch"},
             {"code": "HT05", "name": "Cấp giấy xác nhận tình trạng hôn nhân"},
         ]},
        {"code": "CT", "name": "Chứng thực", "series": {"first": 2001, "last": 2999},
         "services": [
             {"code": "CT01", "name": "Chứng thực bản sao từ bản chính", "instant": True},
             {"code": "CT02", "name": "Chứng thực chữ ký", "instant": True},
             {"code": "CT03", "name": "Chứng thực hợp đồng, giao dịch"},
         ]},
        {"code": "DD", "name": "Đất đai", "series": {"first": 3001, "last": 3999},
         "services": [
             {"code": "DD01", "name": "Đăng ký biến động quyền sử dụng đất"},
             {"code": "DD02", "name": "Đăng ký đất đai, cấp Giấy chứng nhận lần đầu", "daily_cap": 40},
             {"code": "DD03", "name": "Xác nhận nguồn gốc, thời điểm sử dụng đất"},
         ]},
        {"code": "XD", "name": "Xây dựng", "series": {"first": 4001, "last": 4999},
         "services": [
             {"code": "XD01", "name": "Cấp giấy phép xây dựng nhà ở riêng lẻ"},
             {"code": "XD02", "name": "Điều chỉnh, gia hạn giấy phép xây dựng"},
         ]},
        {"code": "KD", "name": "Kinh doanh", "series": {"first": 5001, "last": 5999},
         "services": [
             {"code": "KD01", "name": "Đăng ký thành lập hộ kinh doanh"},
             {"code": "KD02", "name": "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh"},
             {"code": "KD03", "name": "Tạm ngừng, chấm dứt hoạt động hộ kinh doanh"},
         ]},
        {"code": "LD", "name": "Lao động – Thương binh và Xã hội", "series": {"first": 6001, "last": 6999},
         "services": [
             {"code": "LD01", "name": "Trợ cấp xã hội hằng tháng"},
             {"code": "LD02", "name": "Xác nhận hộ nghèo, hộ cận nghèo"},
             {"code": "LD03", "name": "Giải quyết chế độ ưu đãi người có công"},
         ]},
        {"code": "NN", "name": "Nông nghiệp và Môi trường", "series": {"first": 7001, "last": 7999},
         "services": [
             {"code": "NN01", "name": "Hỗ trợ khôi phục sản xuất sau thiên tai"},
             {"code": "NN02", "name": "Xác nhận kế hoạch bảo vệ môi trường"},
             {"code": "NN03", "name": "Đăng ký khai thác nước dưới đất"},
         ]},
    ],
    "counters": [
        {"number": 1, "name": "Hộ tịch", "primary": ["HT"], "backup": ["CT"]},
        {"number": 2, "name": "Hộ tịch, Chứng thực", "primary": ["HT", "CT"]},
        {"number": 3, "name": "Chứng thực", "primary": ["CT"], "backup": ["HT"]},
        {"number": 4, "name": "Đất đai, Xây dựng", "primary": ["DD", "XD"], "backup": ["NN"]},
        {"number": 5, "name": "Kinh doanh, Lao động", "primary": ["KD", "LD"], "backup": ["DD"]},
        {"number": 6, "name": "Nông nghiệp, Lao động", "primary": ["NN", "LD"], "backup": ["KD"]},
    ],
    "displays": [
        {"name": "Sảnh chờ chính"},
        {"name": "Sảnh tầng 1 – Quầy 1 đến 3", "counters": [1, 2, 3]},
    ],
    "kiosks": [{"name": "Kiosk sảnh chính"}],
    "officers": [
        {"username": "canbo1", "full_name": "Nguyễn Thị Lan", "password": "matkhau1"},
        {"username": "canbo2", "full_name": "Trần Văn Hùng", "password": "matkhau2"},
        {"username": "canbo3", "full_name": "Lê Thị Hồng Nhung", "password": "matkhau3"},
        {"username": "canbo4", "full_name": "Phạm Quốc Bảo", "password": "matkhau4"},
        {"username": "canbo5", "full_name": "Hoàng Minh Tuấn", "password": "matkhau5"},
        {"username": "canbo6", "full_name": "Đỗ Thị Thu Hà", "password": "matkhau6"},
        {"username": "lanhdao", "full_name": "Vũ Đức Thắng", "role": "manager", "password": "lanhdao123"},
        {"username": "admin", "full_name": "Quản trị hệ thống", "role": "admin", "password": "quantri123"},
    ],
}


def ensure_demo_centre(db) -> bool:
    """Create the demo centre unless a centre exists already. True when it was created."""
    with db.read() as s:
        if s.scalars(select(Centre.id)).first() is not None:
            return False
    ids = create_centre(db, DEMO_CENTRE)
    # A month behind it, so the reports have something to show on the first day.
    today = local_day(db.clock.now(), DEMO_CENTRE["timezone"])
    write_history(db, ids["centre"], today - timedelta(days=30), today - timedelta(days=1), tickets_per_day=160)
    return True


def device_links(db) -> list[tuple[str, str, str]]:
    """(kind, name, path) of every kiosk, lobby display and rating tablet: their keys are random, so
    the demo prints them."""
    with db.read() as s:
        kiosks = [("kiosk", k.name, f"/kiosk/{k.key}") for k in s.scalars(select(Kiosk).order_by(Kiosk.id))]
        displays = [("display", d.name, f"/display/{d.key}") for d in s.scalars(select(Display).order_by(Display.id))]
        tablets = [("tablet", c.name, f"/rate/{c.rating_key}")
                   for c in s.scalars(select(Counter).order_by(Counter.number)) if c.rating_key]
        return kiosks + displays + tablets


def demo_credentials() -> list[tuple[str, str]]:
    return [(o["username"], o["password"]) for o in DEMO_CENTRE["officers"]]
