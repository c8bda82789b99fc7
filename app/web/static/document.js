// Bring the cited passage into view (the #passage fragment does it too; this also centres it).
(function () {
  var mark = document.getElementById("passage");
  if (mark && mark.scrollIntoView) mark.scrollIntoView({ block: "center" });
})();
