// The upload page: drop (or pick) files and folders; each file is streamed to the server with
// its own progress bar (PUT /api/uploads/{batch}/files), then the batch is indexed and each
// file's outcome is polled (GET /api/uploads/{batch}). Names only reach the page as textContent.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  var zone = document.getElementById("dropzone");
  if (!form || !zone || !window.fetch || !window.XMLHttpRequest) return;
  var table = document.getElementById("upload-files");
  var tbody = table.querySelector("tbody");
  var summary = document.getElementById("upload-summary");
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
  var CONCURRENT = 3;

  function csrfHeaders() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? { "X-CSRF-Token": meta.getAttribute("content") } : {};
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function size(n) {
    if (n < 1024) return n + " B";
    if (n < 1048576) return (n / 1024).toFixed(1) + " KB";
    return (n / 1048576).toFixed(1) + " MB";
  }

  function problemText(xhrOrResponse, body) {
    try { return JSON.parse(body).detail || "failed"; } catch (e) { return "failed (" + xhrOrResponse.status + ")"; }
  }

  // -- collecting files (folders through the entries API) ----------------------------------------
  function readAll(reader) {
    return new Promise(function (resolve, reject) {
      var out = [];
      (function next() {
        reader.readEntries(function (batch) {
          if (!batch.length) return resolve(out);
          out = out.concat(Array.prototype.slice.call(batch));
          next();
        }, reject);
      })();
    });
  }

  function walk(entry, prefix, out) {
    if (entry.isFile) {
      return new Promise(function (resolve) {
        entry.file(function (file) { out.push({ file: file, path: prefix + file.name }); resolve(); },
                   function () { out.push({ file: null, path: prefix + entry.name }); resolve(); });
      });
    }
    if (entry.isDirectory) {
      return readAll(entry.createReader()).then(function (children) {
        return Promise.all(children.map(function (c) { return walk(c, prefix + entry.name + "/", out); }));
      });
    }
    return Promise.resolve();
  }

  function fromDrop(dt) {
    var out = [];
    var items = dt.items ? Array.prototype.slice.call(dt.items) : [];
    var entries = items.map(function (i) { return i.webkitGetAsEntry ? i.webkitGetAsEntry() : null; });
    if (entries.length && entries.every(Boolean)) {
      return Promise.all(entries.map(function (e) { return walk(e, "", out); })).then(function () { return out; });
    }
    Array.prototype.forEach.call(dt.files || [], function (f) { out.push({ file: f, path: f.name }); });
    return Promise.resolve(out);
  }

  function fromInput(input) {
    return Array.prototype.map.call(input.files || [], function (f) {
      return { file: f, path: f.webkitRelativePath || f.name };
    });
  }

  // -- rows ---------------------------------------------------------------------------------------
  function row(entry) {
    var tr = el("tr", { "class": "upload-row" });
    tr.appendChild(el("td", { "class": "name" }, entry.path));
    tr.appendChild(el("td", { "class": "num" }, entry.file ? size(entry.file.size) : ""));
    var cell = el("td", { "class": "progress-cell" });
    var bar = el("progress", { max: "100", value: "0", "aria-label": "upload of " + entry.path });
    cell.appendChild(bar);
    tr.appendChild(cell);
    var state = el("td", { "class": "state" }, "waiting");
    tr.appendChild(state);
    tbody.appendChild(tr);
    entry.tr = tr; entry.bar = bar; entry.state = state;
  }

  function setState(entry, text, cls, docId) {
    entry.state.textContent = "";
    entry.tr.className = "upload-row " + (cls || "");
    if (docId) {
      var a = el("a", { href: "/documents/" + encodeURIComponent(docId) }, text);
      entry.state.appendChild(a);
    } else {
      entry.state.textContent = text;
    }
  }

  // -- upload ---------------------------------------------------------------------------------------
  function put(batch, entry) {
    return new Promise(function (resolve) {
      if (!entry.file) { setState(entry, "could not be read by the browser", "failed"); return resolve(); }
      if (maxBytes && entry.file.size > maxBytes) {
        setState(entry, "larger than the upload limit of " + size(maxBytes), "failed");
        return resolve();
      }
      var xhr = new XMLHttpRequest();
      xhr.open("PUT", "/api/uploads/" + encodeURIComponent(batch) + "/files?name=" + encodeURIComponent(entry.path));
      var headers = csrfHeaders();
      Object.keys(headers).forEach(function (k) { xhr.setRequestHeader(k, headers[k]); });
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      setState(entry, "uploading");
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) entry.bar.value = Math.round(100 * e.loaded / e.total);
      };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          var saved = JSON.parse(xhr.responseText);
          entry.bar.value = 100;
          entry.origin = saved.origin;
          setState(entry, saved.unchanged ? "uploaded (already in the inbox)" : "uploaded, waiting to be indexed", "uploaded");
        } else {
          setState(entry, problemText(xhr, xhr.responseText), "failed");
        }
        resolve();
      };
      xhr.onerror = function () { setState(entry, "the connection failed", "failed"); resolve(); };
      xhr.send(entry.file);
    });
  }

  function poll(batch, entries) {
    fetch("/api/uploads/" + encodeURIComponent(batch), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (status) {
        var byOrigin = {};
        (status.files || []).forEach(function (f) { byOrigin[f.origin] = f; });
        entries.forEach(function (entry) {
          var f = entry.origin && byOrigin[entry.origin];
          if (!f) return;
          if (f.status === "indexed") setState(entry, "indexed", "indexed", f.document_id);
          else if (f.status === "failed" || f.status === "skipped") setState(entry, f.status + ": " + (f.message || f.code || ""), "failed");
          else if (f.status === "unchanged") setState(entry, f.message || "already indexed", "indexed");
          else if (status.job && status.job.state === "running") setState(entry, "indexing…", "uploaded");
        });
        var job = status.job;
        if (job) {
          summary.textContent = job.state === "running" || job.state === "queued"
            ? "Indexing: " + job.done + (job.total ? " of " + job.total : "") + " items checked in the inbox…"
            : "Done: " + job.counts.indexed + " indexed, " + job.counts.failed + " failed, " + job.counts.skipped + " skipped." + (job.error ? " " + job.error : "");
        }
        if (!status.finished) setTimeout(function () { poll(batch, entries); }, 600);
        else form.classList.remove("busy");
      })
      .catch(function () { summary.textContent = "Lost contact with the server; reload the page to see the state."; });
  }

  function start(entries) {
    if (!entries.length) return;
    table.hidden = false;
    form.classList.add("busy");
    entries.forEach(row);
    summary.textContent = "Uploading " + entries.length + " file" + (entries.length === 1 ? "" : "s") + "…";
    fetch("/api/uploads", { method: "POST", headers: csrfHeaders() })
      .then(function (r) { if (!r.ok) throw new Error("upload refused (" + r.status + ")"); return r.json(); })
      .then(function (info) {
        var batch = info.batch, queue = entries.slice();
        function worker() {
          var next = queue.shift();
          return next ? put(batch, next).then(worker) : Promise.resolve();
        }
        var workers = [];
        for (var i = 0; i < CONCURRENT; i++) workers.push(worker());
        return Promise.all(workers).then(function () {
          var ok = entries.filter(function (e) { return e.origin; });
          if (!ok.length) { summary.textContent = "Nothing was uploaded."; form.classList.remove("busy"); return; }
          summary.textContent = "Indexing…";
          return fetch("/api/uploads/" + encodeURIComponent(batch) + "/ingest", { method: "POST", headers: csrfHeaders() })
            .then(function () { poll(batch, entries); });
        });
      })
      .catch(function (err) { summary.textContent = String(err.message || err); form.classList.remove("busy"); });
  }

  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function () { zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) {
    e.preventDefault();
    fromDrop(e.dataTransfer).then(start);
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var entries = [];
    form.querySelectorAll('input[type="file"]').forEach(function (input) {
      entries = entries.concat(fromInput(input));
      input.value = "";
    });
    start(entries);
  });
  form.querySelectorAll('input[type="file"]').forEach(function (input) {
    input.addEventListener("change", function () { start(fromInput(input)); input.value = ""; });
  });

  // A batch posted without JavaScript (or a reload): keep following it.
  var pending = document.getElementById("upload-status");
  if (pending && pending.getAttribute("data-batch") && pending.getAttribute("data-finished") !== "true") {
    setTimeout(function () { window.location.reload(); }, 1500);
  }
})();
