// The cited page of a PDF, rendered with pdf.js (vendored in /static/pdfjs/, no CDN), with the
// cited sentences marked ON the page: the page's text layer is searched for the text in
// data-find (the supporting sentences; else data-passage, the whole passage) and rectangles are
// drawn over the matching glyphs. Text is compared as letters and digits only (case, spaces,
// hyphenation and ligatures differ between pdf.js and the server's text extraction), and when
// the whole text is not on the page its first and last pieces are looked for. For a statement
// row (?page=P&line=L) data-find is that line as the PDF's own text layer prints it.
// No inline script or style attribute anywhere: works under a CSP of script-src 'self'.
import * as pdfjsLib from "/static/pdfjs/pdf.min.mjs";

const host = document.getElementById("pdf-view");
const MAX_SCALE = 2;
const PIECE = 40; // letters/digits per piece when the whole text is not found

if (host) {
  pdfjsLib.GlobalWorkerOptions.workerSrc = "/static/pdfjs/pdf.worker.min.mjs";
  start().catch((error) => status("The page could not be rendered (" + (error && error.message || error) + "); the extracted text is below."));
}

function status(text) {
  const line = document.getElementById("pdf-status");
  if (line) line.textContent = text;
}

async function start() {
  const task = pdfjsLib.getDocument({ url: host.dataset.src, isEvalSupported: false, enableXfa: false });
  const pdf = await task.promise;
  const prev = document.getElementById("pdf-prev");
  const next = document.getElementById("pdf-next");
  const cited = await citedPage(pdf);
  let current = cited;
  const show = async (number) => {
    current = number;
    prev.disabled = number <= 1;
    next.disabled = number >= pdf.numPages;
    await renderPage(pdf, number, number === cited);
  };
  prev.addEventListener("click", () => show(current - 1));
  next.addEventListener("click", () => show(current + 1));
  await show(cited);
}

function clamp(n, max) { return Math.min(Math.max(1, n), max); }

// A passage may run from one page onto the next (data-page .. data-page-end): the page to show
// is the first whose text holds the cited sentences (else their first piece), else the first.
async function citedPage(pdf) {
  const first = clamp(Number(host.dataset.page) || 1, pdf.numPages);
  const last = clamp(Number(host.dataset.pageEnd) || first, pdf.numPages);
  const needle = reduce(host.dataset.find || "");
  if (!needle || last <= first) return first;
  for (const probe of [needle, needle.slice(0, PIECE)]) {
    for (let n = first; n <= last; n++) {
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      if (reduce(content.items.map((item) => item.str || "").join("")).includes(probe)) return n;
    }
  }
  return first;
}

async function renderPage(pdf, number, isCited) {
  const page = await pdf.getPage(number);
  const box = document.getElementById("pdf-page");
  box.textContent = "";
  const unscaled = page.getViewport({ scale: 1 });
  const width = Math.max(200, host.clientWidth || unscaled.width);
  const scale = Math.min(MAX_SCALE, width / unscaled.width);
  const viewport = page.getViewport({ scale });
  const ratio = window.devicePixelRatio || 1;
  box.style.setProperty("--scale-factor", String(scale));
  box.style.setProperty("--total-scale-factor", String(scale));
  box.style.setProperty("--scale-round-x", "1px");
  box.style.setProperty("--scale-round-y", "1px");
  box.style.width = viewport.width + "px";
  box.style.height = viewport.height + "px";

  const canvas = document.createElement("canvas");
  canvas.width = Math.floor(viewport.width * ratio);
  canvas.height = Math.floor(viewport.height * ratio);
  canvas.style.width = viewport.width + "px";
  canvas.style.height = viewport.height + "px";
  box.appendChild(canvas);
  const marks = document.createElement("div");
  marks.className = "pdf-marks";
  box.appendChild(marks);
  const text = document.createElement("div");
  text.className = "textLayer";
  box.appendChild(text);

  await page.render({
    canvasContext: canvas.getContext("2d"), viewport,
    transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null,
  }).promise;
  const layer = new pdfjsLib.TextLayer({ textContentSource: page.streamTextContent(), container: text, viewport });
  await layer.render();

  const label = "Page " + number + " of " + pdf.numPages;
  if (!isCited) { status(label + "."); return; }
  const find = host.dataset.find || "";
  const rects = find ? mark(text, box, marks, find) || mark(text, box, marks, host.dataset.passage || "") : null;
  const what = host.dataset.what || "cited text";
  if (rects) {
    status(label + ": the " + what + " is marked.");
    host.dataset.marked = String(rects);
    const first = marks.firstElementChild;
    if (first) first.scrollIntoView({ block: "center" });
  } else {
    status(label + (find ? ": the " + what + " was not found on the rendered page; it is marked in the extracted text below." : "."));
    host.dataset.marked = "0";
  }
}

// Letters and digits of the text layer, lower case, each with the text node and offset it came
// from; `needle` is reduced the same way.
function letters(layer) {
  const chars = [];
  const where = [];
  const walker = document.createTreeWalker(layer, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const value = node.nodeValue || "";
    for (let i = 0; i < value.length; i++) {
      for (const ch of reduce(value[i])) { chars.push(ch); where.push([node, i]); }
    }
  }
  return { text: chars.join(""), where };
}

function reduce(text) {
  return text.normalize("NFKC").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");
}

function locate(hay, needle) {
  if (!needle) return null;
  const at = hay.indexOf(needle);
  if (at >= 0) return [at, at + needle.length];
  if (needle.length <= 2 * PIECE) return null;
  // Not all of it is on this page (a passage across a page break, text the two extractors
  // read differently): from its first piece found to its last piece found after that.
  let first = -1, firstPiece = 0;
  for (let i = 0; i + PIECE <= needle.length && first < 0; i += PIECE) {
    first = hay.indexOf(needle.slice(i, i + PIECE));
    firstPiece = i;
  }
  if (first < 0) return null;
  const rest = needle.length - firstPiece;
  for (let j = needle.length; j - PIECE > firstPiece; j -= PIECE) {
    const last = hay.indexOf(needle.slice(j - PIECE, j), first);
    if (last >= 0) return [first, last + PIECE];
  }
  return [first, Math.min(hay.length, first + Math.min(rest, PIECE))];
}

function mark(layer, box, marks, text) {
  const { text: hay, where } = letters(layer);
  const found = locate(hay, reduce(text));
  if (!found) return 0;
  const [a, b] = found;
  const range = document.createRange();
  range.setStart(where[a][0], where[a][1]);
  range.setEnd(where[b - 1][0], where[b - 1][1] + 1);
  const origin = box.getBoundingClientRect();
  let count = 0;
  for (const r of range.getClientRects()) {
    if (r.width < 1 || r.height < 1) continue;
    const div = document.createElement("div");
    div.className = "pdf-mark";
    div.style.left = (r.left - origin.left) + "px";
    div.style.top = (r.top - origin.top) + "px";
    div.style.width = r.width + "px";
    div.style.height = r.height + "px";
    marks.appendChild(div);
    count++;
  }
  return count;
}
