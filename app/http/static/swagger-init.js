// Start Swagger UI on /docs (a file, not an inline script: the CSP allows scripts from 'self' only).
// "Try it out" sends the page's cookies, so unsafe methods carry the CSRF token of the page.
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  if (!node || !window.SwaggerUIBundle) return;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  window.ui = window.SwaggerUIBundle({
    requestInterceptor: function (req) {
      if (token && !/^(GET|HEAD|OPTIONS)$/i.test(req.method || "GET")) req.headers["X-CSRF-Token"] = token;
      return req;
    },
    url: node.getAttribute("data-openapi-url") || "/openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
})();
