// The mail form shows the fields of the chosen kind only (IMAP: server, user, password ...;
// mbox / Maildir: a path). Without JavaScript every field shows and the server ignores the rest.
(function () {
  "use strict";
  var kind = document.getElementById("mail-kind");
  if (!kind) return;
  function update() {
    document.querySelectorAll("#add-mail [data-kinds]").forEach(function (node) {
      node.hidden = node.getAttribute("data-kinds").split(" ").indexOf(kind.value) < 0;
    });
  }
  kind.addEventListener("change", update);
  update();
})();
