// What the citizen's phone pages share (book.js, province_book.js): words in the reader's language,
// search without diacritics, the API's bilingual errors, the language button.

// t(code, {param}) in `page.lang`, falling back to Vietnamese.
export const translator = (labels, page) => (code, params = {}) => (labels[page.lang][code] || labels.vi[code] || code)
  .replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");

// Citizens type without diacritics: "khai sinh" and "khaisinh" both find "Khai sinh".
export const fold = (s) => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();

// The API says every error in Vietnamese / English: the reader's half (or the page's own words).
export function errorText(body, page, labels, t) {
  const error = body && body.error;
  if (!error) return t("book_offline");
  if (labels[page.lang][error.code] && !/\{/.test(labels[page.lang][error.code])) return t(error.code);
  const halves = (error.message || "").split(" / ");
  return page.lang === "en" && halves[1] ? halves[1] : halves[0];
}

// Every [data-label] and [data-placeholder] in the reader's language.
export function relabel(page, t) {
  document.documentElement.lang = page.lang;
  document.querySelectorAll("[data-label]").forEach((n) => { n.textContent = t(n.dataset.label); });
  document.querySelectorAll("[data-placeholder]").forEach((n) => { n.placeholder = t(n.dataset.placeholder); });
}

// The language button: the choice is kept for the citizen's next page.
export function languageButton(button, page, render) {
  button.addEventListener("click", () => {
    page.lang = page.lang === "vi" ? "en" : "vi";
    localStorage.setItem("hangdoi-lang", page.lang);
    render();
  });
}
