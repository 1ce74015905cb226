// The inquiry form's type-ahead of public FAQ answers (R34), a file and not an inline
// script (the Content-Security-Policy allows none). As the customer types, the start of
// the text goes to /faq/suggest and up to three answers appear under the text box, each
// opening the FAQ page in a new tab so nothing typed is lost. Without this script (or
// when the search is refused) the form works exactly as before: the box stays hidden.
(function () {
  "use strict";
  var box = document.getElementById("faq-suggest");
  var text = document.getElementById("text");
  if (!box || !text || !window.fetch) {
    return;
  }
  var list = box.querySelector("ul");
  var lang = box.getAttribute("data-lang") || "ja";
  var most = 100; // statuspage.faq.SUGGEST_MAX (tests/test_kb_public.py checks they agree)
  var timer = null;
  var last = "";
  var asked = 0;

  function show(results) {
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    results.forEach(function (result) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = result.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = result.title;
      item.appendChild(link);
      if (result.snippet) {
        var snippet = document.createElement("p");
        snippet.textContent = result.snippet;
        item.appendChild(snippet);
      }
      list.appendChild(item);
    });
    box.hidden = results.length === 0;
  }

  function ask() {
    // Whole characters (never half a surrogate pair), at most as many as the server takes.
    var words = Array.from(text.value.replace(/\s+/g, " ").trim()).slice(0, most).join("");
    if (words === last) {
      return;
    }
    last = words;
    if (words.length < 2) {
      show([]);
      return;
    }
    var mine = ++asked;
    var url = "/faq/suggest?lang=" + encodeURIComponent(lang) + "&q=" + encodeURIComponent(words);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : { results: [] };
      })
      .then(function (body) {
        if (mine === asked) {
          show(body.results || []);
        }
      })
      .catch(function () {});
  }

  text.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 350);
  });
  ask(); // a refused post shows the form again with the text kept
})();
