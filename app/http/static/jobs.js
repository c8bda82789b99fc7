// Background syncs on the sources and health pages: every [data-job-id] shows its job's progress
// (GET /api/jobs/{id}) and the page reloads once the job has finished, to show the new counts.
(function () {
  "use strict";
  var nodes = document.querySelectorAll("[data-job-id]");
  if (!nodes.length || !window.fetch) return;
  function poll(node) {
    var id = node.getAttribute("data-job-id");
    fetch("/api/jobs/" + encodeURIComponent(id), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) return;
        if (job.state === "done" || job.state === "failed") {
          if (node.getAttribute("data-finished") !== "true") window.location.reload();
          return;
        }
        node.textContent = "syncing… " + job.done + (job.total ? " of " + job.total : "") + " items";
        setTimeout(function () { poll(node); }, 800);
      })
      .catch(function () { /* the next page load shows the state */ });
  }
  nodes.forEach(function (node) {
    var text = node.textContent || "";
    if (/running|syncing/.test(text)) poll(node);
  });
})();
