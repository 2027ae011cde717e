"""The lobby board on every TV a centre mounts: 1280×720 (cheap TV boxes), 1366×768, 1920×1080,
3840×2160 and a 1080×1920 pillar, with 6, 12 and 30 counters and a commune's real catalogue (70
fields, 399 procedures). In real Chromium, measured once the board says it has drawn the centre's
data in its own font (`body[data-queues-fitted]`), never after a wait: nothing overlaps, no text is
cut or spills out of its panel, one-line labels stay on one line, and every counter is on screen."""
from __future__ import annotations

import pytest

from hangdoi.fixtures import large_catalogue
from hangdoi.fixtures.demo import demo_centre

from .centres import open_now
from .conftest import screenshot, start_demo

SIZES = [(1280, 720), (1366, 768), (1920, 1080), (3840, 2160), (1080, 1920)]
# The longest procedure name of the catalogue: called last, so the board must show it whole.
LONGEST = max(((f"{code}{n:02d}", name) for _, _, fields in large_catalogue.GROUPS for code, _, names in fields
               for n, name in enumerate(names, 1)), key=lambda p: len(p[1]))


def centre_with(counters: int) -> dict:
    """The large catalogue at `counters` counters: the twelve groups of fields dealt out among them."""
    spec = open_now(demo_centre("large"))
    groups = large_catalogue.GROUPS
    made = []
    for n in range(counters):
        served = [code for g, (_, _, fields) in enumerate(groups) if g % counters == n % len(groups)
                  for code, _, _ in fields]
        made.append({"number": n + 1, "name": groups[n % len(groups)][1], "primary": served})
    return {**spec, "counters": made, "displays": [{"name": "Sảnh chờ chính"}]}


@pytest.fixture(params=[6, 12, 30], ids=lambda n: f"{n}-counters")
def busy_board(request, tmp_path):
    """A morning in a busy centre: tickets in 60 procedures, a call at every staffed counter, a
    recall, and the longest procedure name called last."""
    counters = request.param
    server, ids = start_demo(tmp_path, spec=centre_with(counters),
                             extra_env={"HANGDOI_KIOSK_RATE_LIMIT_PER_MINUTE": "0"})
    services = server.get("/services").json()
    longest_code = LONGEST[0]
    server.post("/tickets", json={"service": longest_code}).raise_for_status()
    for service in services[:60]:
        server.post("/tickets", json={"service": service["code"]}).raise_for_status()
    staffed = list(range(2, min(counters, 12) + 1)) + [1]     # counter 1 (Hộ tịch) calls last
    for number in staffed:
        token = server.login(f"canbo{number}", f"matkhau{number}")
        server.post(f"/counters/{ids.counter(number)}/sign-in", token).raise_for_status()
        called = server.post(f"/counters/{ids.counter(number)}/call-next", token)
        assert called.status_code == 200, called.text
    assert called.json()["ticket"]["service"]["name"] == LONGEST[1]
    server.post(f"/counters/{ids.counter(1)}/recall", token).raise_for_status()
    yield server, ids, counters
    server.stop()


MEASURE = """() => {
  const problems = [];
  const box = (e) => e.getBoundingClientRect();
  const name = (e) => (e.id ? '#' + e.id : e.className || e.tagName) + ' "' + (e.innerText || e.textContent).trim().slice(0, 40) + '"';
  const apart = (a, b) => a.right <= b.left + 1 || b.right <= a.left + 1 || a.bottom <= b.top + 1 || b.bottom <= a.top + 1;
  const within = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  const root = document.documentElement;
  if (root.scrollHeight > innerHeight + 1 || root.scrollWidth > innerWidth + 1) problems.push('the page scrolls');

  // The board's parts never overlap one another.
  const parts = ['.top', '.latest', 'section.counters', 'section.recent', 'section.queues', '.ticker'];
  for (let i = 0; i < parts.length; i++) for (let j = i + 1; j < parts.length; j++) {
    if (!apart(box(document.querySelector(parts[i])), box(document.querySelector(parts[j])))) problems.push(parts[i] + ' overlaps ' + parts[j]);
  }
  const cards = [...document.querySelectorAll('.card')];
  for (let i = 0; i < cards.length; i++) for (let j = i + 1; j < cards.length; j++) {
    if (!apart(box(cards[i]), box(cards[j]))) problems.push(name(cards[i]) + ' overlaps ' + name(cards[j]));
  }
  const ticker = box(document.querySelector('.ticker'));
  for (const card of cards) if (!within(box(card), box(document.querySelector('section.counters'))) || box(card).bottom > ticker.top)
    problems.push(name(card) + ' is not wholly on the screen');

  // Every piece of text lies inside its own panel: none is cut off or spills out.
  const panels = '.card, #recent li, #queues li, .latest, .top, section.counters, section.recent, section.queues';
  const walker = document.createTreeWalker(document.querySelector('main.board'), NodeFilter.SHOW_TEXT);
  const top = document.createTreeWalker(document.querySelector('.top'), NodeFilter.SHOW_TEXT);
  for (const w of [walker, top]) {
    for (let node = w.nextNode(); node; node = w.nextNode()) {
      const parent = node.parentElement;
      if (!node.textContent.trim() || !parent.checkVisibility()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const panel = parent.closest(panels);
      for (const line of range.getClientRects()) {
        if (!within(line, box(panel))) { problems.push(name(parent) + ' spills out of ' + name(panel)); break; }
      }
    }
  }
  // Labels that must read on one line.
  for (const e of document.querySelectorAll('.card .label, .latest .where, .latest .number, #recent .to, #recent .number')) {
    const range = document.createRange();
    range.selectNodeContents(e);
    // A new line starts below the whole of the one before (a smaller tag on the line is not one).
    let lines = 0, bottom = -Infinity;
    for (const r of [...range.getClientRects()].filter((r) => r.width > 0).sort((a, b) => a.top - b.top)) {
      if (r.top >= bottom - 2) lines += 1;
      bottom = Math.max(bottom, r.bottom);
    }
    if (lines > 1) problems.push(name(e) + ' splits over ' + lines + ' lines');
  }
  return problems;
}"""


def test_the_board_fits_every_tv_and_pillar_screen(browser, busy_board):
    server, ids, counters = busy_board
    for width, height in SIZES:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(f"{server.url}/display/{ids.displays['Sảnh chờ chính']}")
        page.wait_for_selector("body[data-queues-fitted]")
        where = f"{width}×{height}, {counters} counters"
        assert page.evaluate(MEASURE) == [], where
        assert page.locator(".card").count() == counters, where
        assert page.locator("#latest-service").inner_text() == LONGEST[1], where
        # The recall is one row, marked, not a second row for the same citizen.
        recent = page.locator("#recent li .number").all_inner_texts()
        numbers = [text.split("\n")[0].split(" ")[0] for text in recent]
        assert len(numbers) == len(set(numbers)) and page.locator("#recent li.recall").count() == 1, where
        screenshot(page, f"display-{counters}-counters-{width}x{height}")
        page.close()
