// Stream the answer into the page (fetch + ReadableStream on /api/conversations/ask, server-sent
// events). The page is a conversation: each answer moves up into the transcript when the next
// question is asked, and that question is a follow-up (the server rewrites it against the earlier
// turns and says how in a `rewrite` event; `conversation` gives the stored conversation's id).
// Without fetch streaming the form posts to /ask and the server renders the whole answer.
// Document text is untrusted: it only ever reaches the page through textContent.
(function () {
  "use strict";
  var form = document.getElementById("ask-form");
  if (!form || !window.fetch || !window.TextDecoder || !window.ReadableStream) return;
  var answer = document.getElementById("answer");
  var statusLine = document.getElementById("status");
  var button = document.getElementById("ask-button");
  var turns = document.getElementById("turns");
  var conversationInput = document.getElementById("conversation-id");
  var questionBox = document.getElementById("question");
  // The same markers as MARKER_RE in app/answer/citations.py: [1], [1, 2], [3-5], [1; 4-6].
  var ITEM = "\\d{1,4}(?:[ \\t]*[-\\u2013][ \\t]*\\d{1,4})?";
  var MARKER = new RegExp("\\[[ \\t]*(" + ITEM + "(?:[ \\t]*[,;][ \\t]*" + ITEM + ")*)[ \\t]*\\]", "g");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function basename(path) { return String(path || "").split("/").pop(); }

  function shorten(text, limit) {
    var flat = String(text || "").split(/\s+/).join(" ").trim();
    if (flat.length <= limit) return flat;
    var cut = flat.slice(0, limit - 1);
    return cut.slice(0, cut.lastIndexOf(" ") > 0 ? cut.lastIndexOf(" ") : cut.length) + " \u2026";
  }

  function passageUrl(c) {
    if (c.document_id === null || c.document_id === undefined) return "#";
    var q = c.chunk_id === null || c.chunk_id === undefined ? "" : "?chunk=" + encodeURIComponent(c.chunk_id);
    return "/documents/" + encodeURIComponent(c.document_id) + q + "#passage";
  }

  function citationItem(c) {
    var li = el("li", { "class": "citation", id: "cite-" + c.n, value: c.n });
    var head = el("div", { "class": "cite-head" });
    head.appendChild(el("a", { "class": "cite-link", href: c.url || passageUrl(c) }, c.title || basename(c.path)));
    if (c.page) {
      var end = c.location && c.location.page_end ? "\u2013" + c.location.page_end : "";
      head.appendChild(el("span", { "class": "page" }, "p. " + c.page + end));
    }
    if (/\.pdf$/i.test(c.path || "") && c.document_id !== null && c.document_id !== undefined) {
      var href = "/api/documents/" + encodeURIComponent(c.document_id) + "/file" + (c.page ? "#page=" + c.page : "");
      head.appendChild(el("a", { "class": "original", href: href, target: "_blank", rel: "noopener" },
        "PDF" + (c.page ? " p. " + c.page : "")));
    }
    li.appendChild(head);
    if (c.label) li.appendChild(el("div", { "class": "label" }, c.label));
    li.appendChild(el("div", { "class": "path" }, c.path));
    li.appendChild(el("blockquote", {}, c.snippet || shorten(c.text, 320)));
    return li;
  }

  // "1, 3-5" -> [1, 3, 4, 5], as app/answer/citations.py reads a marker.
  function markerNumbers(inner) {
    var out = [];
    inner.split(/[,;]/).forEach(function (part) {
      var range = part.trim().match(/^(\d{1,4})\s*[-\u2013]\s*(\d{1,4})$/);
      var nums = [];
      if (range) {
        var lo = Number(range[1]), hi = Number(range[2]);
        if (hi - lo > 0 && hi - lo <= 50) { for (var k = lo; k <= hi; k++) nums.push(k); }
        else nums = [lo, hi];
      } else if (part.trim()) {
        nums = [Number(part.trim())];
      }
      nums.forEach(function (n) { if (out.indexOf(n) < 0) out.push(n); });
    });
    return out;
  }

  // The answer text as text nodes, with [n] markers linking to the citations that exist.
  function renderAnswerText(node, text, valid) {
    node.textContent = "";
    var pos = 0, m;
    MARKER.lastIndex = 0;
    while ((m = MARKER.exec(text)) !== null) {
      node.appendChild(document.createTextNode(text.slice(pos, m.index) + "["));
      markerNumbers(m[1]).forEach(function (num, i) {
        if (i) node.appendChild(document.createTextNode(", "));
        if (valid[Number(num)]) node.appendChild(el("a", { "class": "cite", href: "#cite-" + Number(num) }, num));
        else node.appendChild(document.createTextNode(num));
      });
      node.appendChild(document.createTextNode("]"));
      pos = m.index + m[0].length;
    }
    node.appendChild(document.createTextNode(text.slice(pos)));
  }

  // The answer on screen becomes a turn of the transcript; its ids get a prefix so the next
  // answer's ids (#answer-text, #cite-1 ...) stay unique and its [n] links keep their targets.
  function archiveAnswer() {
    if (answer.hidden || !answer.firstChild || !turns) return;
    var k = turns.querySelectorAll("article.turn").length + 1;
    var article = el("article", { "class": "turn", id: "turn-" + k });
    while (answer.firstChild) article.appendChild(answer.firstChild);
    Array.prototype.forEach.call(article.querySelectorAll("[id]"), function (node) {
      node.id = "t" + k + "-" + node.id;
    });
    Array.prototype.forEach.call(article.querySelectorAll('a[href^="#cite-"]'), function (a) {
      a.setAttribute("href", "#t" + k + "-" + a.getAttribute("href").slice(1));
    });
    turns.appendChild(article);
    answer.hidden = true;
  }

  function newAnswerView(question) {
    archiveAnswer();
    answer.textContent = "";
    answer.hidden = false;
    var view = {
      question: el("h2", { "class": "turn-question", id: "current-question" }, question),
      rewrite: el("details", { "class": "rewrite", id: "rewrite", hidden: "" }),
      badges: el("div", { "class": "badges", id: "badges" }),
      notices: el("div", {}),
      reasoning: el("details", { "class": "reasoning", id: "reasoning", hidden: "" }),
      reasoningText: el("pre", { id: "reasoning-text" }),
      text: el("div", { "class": "answer-text", id: "answer-text" }),
      sources: el("div", {}),
      answerSoFar: "",
      offered: [],
      finished: false
    };
    view.reasoning.appendChild(el("summary", {}, "Reasoning"));
    view.reasoning.appendChild(view.reasoningText);
    [view.question, view.rewrite, view.badges, view.notices, view.reasoning, view.text, view.sources].forEach(function (n) { answer.appendChild(n); });
    return view;
  }

  // How the question was understood: shown on request (a closed <details>) when it was rewritten.
  function showRewrite(view, r) {
    view.rewrite.textContent = "";
    if (!r || !r.standalone || r.standalone === r.question) return;
    view.rewrite.appendChild(el("summary", {}, "How this follow-up was understood"));
    view.rewrite.appendChild(el("p", { "class": "standalone", id: "rewrite-standalone" }, r.standalone));
    if (r.carried && r.carried.length) view.rewrite.appendChild(el("p", { "class": "carried" }, "Carried over: " + r.carried.join("; ")));
    if (r.notice) view.rewrite.appendChild(el("p", { "class": "carried" }, r.notice));
    view.rewrite.hidden = false;
  }

  function joinConversation(c) {
    if (!c || c.id === undefined) return;
    conversationInput.value = String(c.id);
    form.classList.add("follow-up");
    questionBox.setAttribute("placeholder", "Ask a follow-up, e.g. and in October? / which of those were over 50 euros?");
    var exp = document.getElementById("export-conversation");
    if (exp) { exp.setAttribute("href", "/api/conversations/" + encodeURIComponent(c.id) + "/markdown?download=1"); exp.hidden = false; }
    var fresh = document.getElementById("new-conversation");
    if (fresh) fresh.hidden = false;
    var title = document.getElementById("conv-title");
    if (title && !title.textContent) { title.textContent = firstQuestion; title.hidden = false; }
    if (window.history && window.history.replaceState) window.history.replaceState(null, "", "/?c=" + encodeURIComponent(c.id));
  }
  var firstQuestion = "";

  function showSources(view, title, items, id) {
    view.sources.textContent = "";
    if (!items.length) return;
    view.sources.appendChild(el("h2", { "class": "sources-title" }, title));
    var list = el("ol", { "class": "citations", id: id });
    items.forEach(function (c) { list.appendChild(citationItem(c)); });
    view.sources.appendChild(list);
  }

  function finish(view, result) {
    view.finished = true;
    var cited = {};
    (result.citations || []).forEach(function (c) { cited[c.n] = true; });
    view.badges.textContent = "";
    view.notices.textContent = "";
    if (result.mode === "retrieval-only") {
      view.badges.appendChild(el("span", { "class": "badge warn", id: "badge-retrieval-only" }, "retrieval-only"));
    }
    if (result.mode === "retrieval-only" || result.notice) {
      view.notices.appendChild(el("p", { "class": "notice", id: "notice" }, result.notice || "No language-model answer."));
    }
    view.text.className = "answer-text " + (result.mode || "");
    if (result.uncited) {
      view.badges.appendChild(el("span", { "class": "badge warn", id: "badge-uncited" }, "uncited"));
      view.notices.appendChild(el("p", { "class": "notice warn", id: "uncited-warning" },
        "This answer cites none of the passages it was given. Check it against the sources before relying on it."));
    }
    if (result.mode === "llm" && result.model) view.badges.appendChild(el("span", { "class": "badge model", title: "answered by" }, result.model));
    if (result.reasoning) {
      view.reasoningText.textContent = result.reasoning;
      view.reasoning.hidden = false;
    }
    // The notice is said once: a retrieval-only text opening with it loses that opening here.
    var text = result.answer || "";
    var repeated = "Retrieval-only answer: " + result.notice + ". ";
    if (result.notice && text.indexOf(repeated) === 0) text = text.slice(repeated.length);
    renderAnswerText(view.text, text, cited);
    showSources(view, "Sources", result.citations || [], "citations");
    // `result.offered` is numbered like the final answer (renumbered by first citation).
    var rest = (result.offered || view.offered).filter(function (c) { return !cited[c.n]; });
    if (rest.length) {
      var more = el("details", { "class": "offered", id: "offered" });
      more.appendChild(el("summary", {}, "Other passages considered (" + rest.length + ")"));
      var list = el("ol", { "class": "citations" });
      rest.forEach(function (c) { list.appendChild(citationItem(c)); });
      more.appendChild(list);
      view.sources.appendChild(more);
    }
    statusLine.textContent = "";
  }

  function showError(view, message) {
    view.finished = true;
    view.notices.textContent = "";
    view.notices.appendChild(el("p", { "class": "notice warn", id: "answer-error" }, message));
    statusLine.textContent = "";
  }

  function handle(view, type, data) {
    if (type === "sources") {
      view.offered = data.sources || [];
      statusLine.textContent = view.offered.length
        ? "Found " + view.offered.length + " passages; writing the answer\u2026"
        : "No matching passages.";
      showSources(view, "Passages offered", view.offered, "offered-list");
    } else if (type === "reasoning") {
      view.reasoning.hidden = false;
      view.reasoningText.textContent += data.text || "";
    } else if (type === "answer") {
      view.answerSoFar += data.text || "";
      view.text.textContent = view.answerSoFar;
    } else if (type === "reset") {
      view.answerSoFar = "";
      view.text.textContent = "";
    } else if (type === "tool") {
      statusLine.textContent = "Looked up " + ((data.tool && data.tool.name) || "data") + "\u2026";
    } else if (type === "rewrite") {
      showRewrite(view, data.rewrite);
    } else if (type === "conversation") {
      joinConversation(data.conversation);
    } else if (type === "done") {
      finish(view, data.result || {});
      questionBox.value = "";
    } else if (type === "error") {
      showError(view, data.detail || "The answer failed.");
    }
  }

  function parseFrame(frame) {
    var type = "message", data = [];
    frame.split("\n").forEach(function (line) {
      if (line.indexOf("event:") === 0) type = line.slice(6).trim();
      else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
    });
    if (!data.length) return null;
    try { return { type: type, data: JSON.parse(data.join("\n")) }; } catch (e) { return null; }
  }

  function body() {
    var data = new FormData(form);
    var out = { question: String(data.get("question") || "") };
    var conv = String(data.get("conversation_id") || "");
    if (/^\d+$/.test(conv)) out.conversation_id = Number(conv);
    var kind = String(data.get("kind") || "");
    if (kind) out.kind = [kind];
    var sources = String(data.get("source") || "").split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    if (sources.length) out.source = sources;
    if (data.get("from")) out.from = String(data.get("from"));
    if (data.get("to")) out.to = String(data.get("to"));
    return out;
  }

  async function ask(event) {
    event.preventDefault();
    var question = questionBox.value.trim();
    if (!firstQuestion) firstQuestion = question;
    var view = newAnswerView(question);
    button.disabled = true;
    statusLine.textContent = "Searching your documents\u2026";
    try {
      var resp = await fetch("/api/conversations/ask", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
        body: JSON.stringify(body())
      });
      if (!resp.ok || !resp.body) {
        var problem = null;
        try { problem = await resp.json(); } catch (e) { problem = null; }
        showError(view, (problem && problem.detail) || "The server answered HTTP " + resp.status + ".");
        return;
      }
      var reader = resp.body.getReader(), decoder = new TextDecoder(), buffer = "";
      for (;;) {
        var chunk = await reader.read();
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
        var cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          var parsed = parseFrame(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
          if (parsed) handle(view, parsed.type, parsed.data);
        }
      }
      if (!view.finished) showError(view, "The answer stream broke off; try again.");
    } catch (e) {
      showError(view, "The server could not be reached.");
    } finally {
      button.disabled = false;
    }
  }

  form.addEventListener("submit", ask);
})();
