// A province admin looks after any centre: the page's body names it (data-centre), and every API
// call and link from the page must name it too. Empty for everyone else: their own centre is meant.
const CENTRE = document.body.dataset.centre || "";

export const centre = CENTRE ? Number(CENTRE) : null;

export function withCentre(path) {
  if (!CENTRE) return path;
  return `${path}${path.includes("?") ? "&" : "?"}centre=${encodeURIComponent(CENTRE)}`;
}
