// Every page: Enter in a text area submits its form (Shift+Enter: a new line), as in chat apps.
// Text areas meant for several lines say so with data-enter="newline". A page script that
// handles Enter itself calls preventDefault, and this one then stays out of the way.
(function () {
  "use strict";
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.defaultPrevented || e.key !== "Enter" || e.shiftKey || e.isComposing) return;
    if (!t || t.tagName !== "TEXTAREA" || t.getAttribute("data-enter") === "newline" || !t.form) return;
    e.preventDefault();
    if (t.form.requestSubmit) t.form.requestSubmit(); else t.form.submit();
  });
})();
