// Bring the cited sentences (or a statement's row) into view, else the cited passage, also when
// the URL has no #passage fragment; the mark lands a little below the top (scroll-margin-top in
// document.css), so a long passage is read from its start. For a PDF, pdfview.js then scrolls
// to the marks on the rendered page.
(function () {
  var mark = document.getElementById("span") || document.getElementById("passage");
  if (mark && mark.scrollIntoView) mark.scrollIntoView({ block: "start" });
})();
