// Bring the cited passage into view also when the URL has no #passage fragment; its start lands
// a little below the top (scroll-margin-top in style.css), so a long passage is read from its start.
(function () {
  var mark = document.getElementById("passage");
  if (mark && mark.scrollIntoView) mark.scrollIntoView({ block: "start" });
})();
