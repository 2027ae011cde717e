"""The message catalogue: every user-facing text, Vietnamese first, English second.

Keys are stable codes; API errors use them as `error.code`.
"""
from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # Request shape
    "malformed_json": ("Dữ liệu gửi lên không phải JSON hợp lệ", "The request body is not valid JSON"),
    "expected_object": ("Dữ liệu gửi lên phải là một đối tượng JSON", "The request body must be a JSON object"),
    "invalid_field": ("Trường “{field}” không hợp lệ: {reason}", "Field “{field}” is invalid: {reason}"),
    "missing_field": ("Thiếu trường “{field}”", "Field “{field}” is required"),
    "unknown_field": ("Trường “{field}” không được hỗ trợ", "Field “{field}” is not supported"),
    "body_too_large": ("Dữ liệu gửi lên quá lớn", "The request body is too large"),
    "wrong_content_type": ("Dữ liệu phải gửi dạng application/json",
                           "The request body must be sent as application/json"),
    "not_found": ("Không tìm thấy địa chỉ này", "No such address"),
    "method_not_allowed": ("Phương thức không được phép", "Method not allowed"),
    "rate_limited": ("Quá nhiều yêu cầu, vui lòng thử lại sau ít phút",
                     "Too many requests, please try again in a minute"),
    # Authentication and permission
    "auth_required": ("Cần đăng nhập", "Sign-in required"),
    "invalid_token": ("Phiên đăng nhập không hợp lệ hoặc đã hết hạn", "The token is invalid or has expired"),
    "bad_credentials": ("Sai tên đăng nhập hoặc mật khẩu", "Wrong username or password"),
    "forbidden": ("Bạn không có quyền thực hiện thao tác này", "You are not allowed to do this"),
    "not_signed_in_here": ("Bạn chưa đăng nhập tại quầy này", "You are not signed in at this counter"),
    "counter_taken": ("Quầy đang có cán bộ khác làm việc", "Another officer is signed in at this counter"),
    "officer_elsewhere": ("Bạn đang đăng nhập tại quầy khác", "You are signed in at another counter"),
    # Things that do not exist
    "service_not_found": ("Không tìm thấy thủ tục", "Service not found"),
    "counter_not_found": ("Không tìm thấy quầy", "Counter not found"),
    "ticket_not_found": ("Không tìm thấy số thứ tự", "Ticket not found"),
    "priority_not_found": ("Không có đối tượng ưu tiên này", "Unknown priority category"),
    "centre_not_found": ("Không tìm thấy trung tâm", "Centre not found"),
    "kiosk_not_found": ("Không tìm thấy máy lấy số này", "Kiosk not found"),
    # Issuing
    "service_inactive": ("Thủ tục này hiện không tiếp nhận", "This service is not available"),
    "service_closed_today": ("Thủ tục này đã ngừng nhận hồ sơ hôm nay",
                             "This service is closed for the rest of the day"),
    "centre_closed": ("Ngoài giờ làm việc — vui lòng quay lại trong giờ hành chính",
                      "Outside opening hours — please come back during office hours"),
    "daily_cap_reached": ("Đã hết số hôm nay", "No more tickets for this service today"),
    "series_exhausted": ("Đã hết số thứ tự trong ngày cho lĩnh vực này",
                         "All ticket numbers of this series are used up for today"),
    # Counter work
    "counter_inactive": ("Quầy không hoạt động", "This counter is not in use"),
    "counter_paused": ("Quầy đang tạm dừng", "This counter is paused"),
    "counter_not_paused": ("Quầy không tạm dừng", "This counter is not paused"),
    "counter_busy": ("Quầy đang phục vụ số khác", "This counter is busy with another ticket"),
    "no_current_ticket": ("Quầy chưa gọi số nào", "This counter has no current ticket"),
    "illegal_transition": ("Không thể {action} khi số đang ở trạng thái “{status}”",
                           "Cannot {action} a ticket that is “{status}”"),
    "not_callable": ("Số này không còn chờ gọi", "This ticket is not waiting to be called"),
    "not_at_counter": ("Số này không ở quầy của bạn", "This ticket is not at your counter"),
    "transfer_target_required": ("Cần chọn thủ tục hoặc quầy để chuyển",
                                 "Choose a service or a counter to transfer to"),
    "transfer_same_place": ("Không thể chuyển về chính chỗ hiện tại", "Cannot transfer to where it already is"),
    "not_today": ("Số này không thuộc ngày hôm nay", "This ticket is not from today"),
    # Ratings
    "not_rateable": ("Số này chưa được phục vụ xong tại quầy này", "This ticket was not finished at this counter"),
    "already_rated": ("Số này đã được đánh giá", "This ticket has been rated already"),
    "rating_too_late": ("Đã quá thời gian đánh giá cho số này", "It is too late to rate this ticket"),
    # Printing
    "print_paper_out": ("Máy in hết giấy — vui lòng ghi nhớ số hoặc quét mã QR",
                        "The printer is out of paper — please remember your number or scan the QR code"),
    "print_failed": ("Không in được phiếu — vui lòng ghi nhớ số hoặc quét mã QR",
                     "The ticket could not be printed — please remember your number or scan the QR code"),
    # Kiosk
    "kiosk_title": ("Lấy số thứ tự", "Take a number"),
    "kiosk_welcome": ("Xin kính chào quý công dân", "Welcome"),
    "kiosk_choose_domain": ("Vui lòng chọn lĩnh vực cần giải quyết", "Please choose what you have come for"),
    "kiosk_search": ("Tìm thủ tục (gõ không dấu, ví dụ: khai sinh)", "Search a procedure (e.g. khai sinh)"),
    "kiosk_search_title": ("Tìm thủ tục", "Search"),
    "kiosk_no_results": ("Không tìm thấy thủ tục phù hợp", "No procedure matches"),
    "kiosk_most_used": ("Thủ tục thường dùng", "Most requested"),
    "kiosk_domains": ("Lĩnh vực", "Fields"),
    "kiosk_services_count": ("{n} thủ tục", "{n} procedures"),
    "kiosk_back": ("Quay lại", "Back"),
    "kiosk_home": ("Về màn hình chính", "Home"),
    "kiosk_waiting": ("Đang chờ", "Waiting"),
    "kiosk_people": ("người", "people"),
    "kiosk_counters": ("Quầy", "Counter"),
    "kiosk_closed_service": ("Tạm ngừng tiếp nhận", "Not available now"),
    "kiosk_priority_question": ("Quý vị có thuộc đối tượng ưu tiên không?",
                                "Do you belong to a priority group?"),
    "kiosk_priority_none": ("Không — Lấy số ngay", "No — take a number"),
    "kiosk_priority_hint": ("Đối tượng ưu tiên được gọi trước. Cán bộ có thể kiểm tra giấy tờ.",
                            "Priority groups are called first. Officers may check your documents."),
    "kiosk_issuing": ("Đang in phiếu…", "Printing your ticket…"),
    "kiosk_your_number": ("Số thứ tự của quý vị", "Your number"),
    "kiosk_please_wait": ("Vui lòng chờ gọi số", "Please wait to be called"),
    "kiosk_ahead": ("Số người chờ trước", "People ahead"),
    "kiosk_go_to": ("Đến quầy", "Go to counter"),
    "kiosk_scan": ("Quét mã để theo dõi số trên điện thoại", "Scan to follow your number on your phone"),
    "kiosk_done": ("Xong", "Done"),
    "kiosk_returning": ("Tự động quay lại sau {n} giây", "Returning in {n} s"),
    "kiosk_closed": ("Ngoài giờ làm việc — vui lòng quay lại trong giờ hành chính",
                     "Outside opening hours — please come back during office hours"),
    "kiosk_offline": ("Mất kết nối máy chủ — vui lòng chờ trong giây lát",
                      "No connection to the server — please wait a moment"),
    "kiosk_error": ("Không lấy được số — vui lòng thử lại hoặc hỏi cán bộ hướng dẫn",
                    "Could not take a number — please try again or ask an officer"),
    "kiosk_forbidden_title": ("Máy lấy số chưa được đăng ký", "Unknown kiosk"),
    "kiosk_forbidden": ("Địa chỉ máy lấy số không đúng. Vui lòng dùng địa chỉ có mã do quản trị cấp.",
                        "This kiosk address is not valid. Use the address with the kiosk key from the administrator."),
    "kiosk_language": ("English", "Tiếng Việt"),
    "kiosk_hours": ("Giờ làm việc: {hours}", "Opening hours: {hours}"),
    "kiosk_help": ("Cần hỗ trợ? Xin mời đến quầy hướng dẫn.", "Need help? Please ask at the information desk."),
    # The citizen's phone
    "status_title": ("Theo dõi số thứ tự", "Follow your number"),
    "status_waiting": ("Đang chờ gọi", "Waiting"),
    "status_ahead": ("Còn {n} người trước bạn", "{n} people ahead of you"),
    "status_next": ("Sắp đến lượt bạn", "You are next"),
    "status_called": ("Mời bạn đến quầy {counter}", "Please go to counter {counter}"),
    "status_serving": ("Đang được phục vụ tại quầy {counter}", "Being served at counter {counter}"),
    "status_done": ("Đã hoàn thành. Cảm ơn bạn!", "Done. Thank you!"),
    "status_no_show": ("Bạn đã được gọi nhưng vắng mặt — vui lòng liên hệ quầy hướng dẫn",
                       "You were called but did not come — please ask at the information desk"),
    "status_cancelled": ("Số này đã bị hủy", "This ticket was cancelled"),
    "status_closed": ("Số này đã hết hiệu lực (cuối ngày)", "This ticket expired at the end of the day"),
    "status_issued": ("Lấy số lúc", "Taken at"),
    "status_live": ("Tự động cập nhật", "Updates live"),
    "status_not_found": ("Không tìm thấy số thứ tự này", "This ticket was not found"),
    # Lobby display
    "display_title": ("Bảng hiển thị số thứ tự", "Queue display"),
    "display_invite": ("Mời công dân có số", "Now calling number"),
    "display_to_counter": ("đến", "to"),
    "display_waiting_for_first": ("Chưa có số nào được gọi", "No number called yet"),
    "display_counters": ("Các quầy", "Counters"),
    "display_recent": ("Vừa gọi", "Recently called"),
    "display_queues": ("Đang chờ theo thủ tục", "Waiting per service"),
    "display_queues_by_domain": ("Đang chờ theo lĩnh vực", "Waiting per field"),
    "display_people": ("người", "people"),
    "display_offline": ("Mất kết nối", "Connection lost"),
    "display_forbidden_title": ("Màn hình chưa được đăng ký", "Unknown display"),
    "display_forbidden": ("Địa chỉ màn hình không đúng. Vui lòng dùng địa chỉ có mã màn hình do quản trị cấp.",
                          "This display address is not valid. Use the address with the display key from the administrator."),
    "display_sound_on": ("Bật âm thanh", "Turn sound on"),
    "display_browser_voice": ("Chưa có giọng đọc trên máy chủ — dùng giọng của trình duyệt",
                              "No voice pack on the server — using the browser's voice"),
    "display_ticker": ("Vui lòng giữ phiếu số thứ tự và chú ý nghe gọi số. Xin cảm ơn!",
                       "Please keep your ticket and listen for your number. Thank you!"),
    "counter_status_open": ("Sẵn sàng", "Ready"),
    "counter_status_calling": ("Đang gọi", "Calling"),
    "counter_status_serving": ("Đang phục vụ", "Serving"),
    "counter_status_paused": ("Tạm dừng", "Paused"),
    "counter_status_closed": ("Chưa mở", "Closed"),
    "counter_status_inactive": ("Ngừng hoạt động", "Not in use"),
}


def texts(prefix: str, lang: str = "vi") -> dict[str, str]:
    """Every message whose code starts with `prefix`, in one language: what a page's script needs.
    Placeholders such as {n} are left for the script to fill."""
    index = 0 if lang == "vi" else 1
    return {code: pair[index] for code, pair in MESSAGES.items() if code.startswith(prefix)}


# Names that appear inside messages, also in both languages.
TERMS: dict[str, tuple[str, str]] = {
    "waiting": ("đang chờ", "waiting"),
    "called": ("đã gọi", "called"),
    "serving": ("đang phục vụ", "being served"),
    "done": ("đã xong", "done"),
    "no_show": ("vắng mặt", "no-show"),
    "cancelled": ("đã hủy", "cancelled"),
    "closed": ("đã đóng cuối ngày", "closed at end of day"),
    "call": ("gọi", "call"),
    "recall": ("gọi lại", "recall"),
    "start": ("bắt đầu phục vụ", "start serving"),
    "finish": ("hoàn thành", "finish"),
    "no-show": ("đánh dấu vắng mặt", "mark as no-show"),
    "requeue": ("trả về hàng chờ", "return to the queue"),
    "transfer": ("chuyển", "transfer"),
    "cancel": ("hủy", "cancel"),
}


def text(code: str, lang: str = "vi", **params) -> str:
    """The message in one language; a parameter naming a TERMS key is translated too."""
    index = 0 if lang == "vi" else 1
    vi, en = MESSAGES[code]
    words = {k: TERMS[v][index] if isinstance(v, str) and v in TERMS else v for k, v in params.items()}
    return (vi, en)[index].format(**words)


def bilingual(code: str, **params) -> str:
    """Vietnamese, then English, in one line: what the API puts in `error.message`."""
    return f"{text(code, 'vi', **params)} / {text(code, 'en', **params)}"
