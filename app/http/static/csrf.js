// CSRF token for every same-origin request this page makes (app/http/csrf.py): fetch() and
// XMLHttpRequest get the X-CSRF-Token header on unsafe methods, and POST forms without the hidden
// field get it as their first field. The token comes from <meta name="csrf-token"> in base.html.
// Loaded first (no defer), so scripts that run later already use the wrapped fetch.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  if (!token) return;
  var SAFE = /^(GET|HEAD|OPTIONS|TRACE)$/i;

  function sameOrigin(url) {
    try { return new URL(url, window.location.href).origin === window.location.origin; }
    catch (e) { return false; }
  }

  if (window.fetch) {
    var realFetch = window.fetch;
    window.fetch = function (input, init) {
      var method = (init && init.method) || (input && input.method) || "GET";
      var url = typeof input === "string" ? input : (input && input.url) || String(input);
      if (!SAFE.test(method) && sameOrigin(url)) {
        init = Object.assign({}, init || {});
        var headers = new Headers(init.headers || (typeof input !== "string" && input.headers) || {});
        if (!headers.has("X-CSRF-Token")) headers.set("X-CSRF-Token", token);
        init.headers = headers;
      }
      return realFetch.call(this, input, init);
    };
  }

  if (window.XMLHttpRequest) {
    var open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.open = function (method, url) {
      this._homeragCsrf = !SAFE.test(method) && sameOrigin(url);
      return open.apply(this, arguments);
    };
    var setHeader = XMLHttpRequest.prototype.setRequestHeader;
    XMLHttpRequest.prototype.setRequestHeader = function (name) {
      if (String(name).toLowerCase() === "x-csrf-token") this._homeragCsrf = false;
      return setHeader.apply(this, arguments);
    };
    XMLHttpRequest.prototype.send = function () {
      if (this._homeragCsrf) setHeader.call(this, "X-CSRF-Token", token);
      return send.apply(this, arguments);
    };
  }

  function addFields() {
    Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
      if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
      if (form.querySelector('input[name="csrf_token"]')) return;
      var input = document.createElement("input");
      input.type = "hidden"; input.name = "csrf_token"; input.value = token;
      form.insertBefore(input, form.firstChild);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", addFields);
  else addFields();
})();
