/* The knowledge base's reply panel (knowledge/_reply_panel.html, R17). A file, not an inline
   <script>: the Content-Security-Policy (anshin.web.headers) allows no inline script.
   "Insert into the reply" puts the article's text into the reply box where the agent's caret
   is (at the end when the box was never touched), then tells the server it was used
   (POST /console/kb/{key}/used with the inquiry, CSRF in the header) and shows the new count. */
(function () {
  function touch(e) {
    var area = e.target;
    if (area && area.tagName === "TEXTAREA") { area.dataset.kbTouched = "1"; }
  }
  document.addEventListener("focusin", touch);
  document.addEventListener("input", touch);

  function joined(before, text, after) {
    var lead = "", tail = "";
    if (before && !/\n\n$/.test(before)) { lead = /\n$/.test(before) ? "\n" : "\n\n"; }
    if (after && !/^\n/.test(after)) { tail = "\n\n"; }
    return { text: lead + text + tail, caret: before.length + lead.length + text.length };
  }

  function insert(area, text) {
    var touched = area.dataset.kbTouched === "1";
    var start = touched ? area.selectionStart : area.value.length;
    var end = touched ? area.selectionEnd : area.value.length;
    var before = area.value.slice(0, start), after = area.value.slice(end);
    var piece = joined(before, text, after);
    area.value = before + piece.text + after;
    area.focus();
    area.setSelectionRange(piece.caret, piece.caret);
    area.dataset.kbTouched = "1";
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function record(panel, button) {
    var body = new URLSearchParams();
    if (panel.dataset.inquiry) { body.set("inquiry_id", panel.dataset.inquiry); }
    var url = "/console/kb/" + encodeURIComponent(button.dataset.key) + "/used";
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": panel.dataset.csrf || "", "Accept": "application/json" },
      body: body
    }).then(function (answer) { return answer.ok ? answer.json() : null; });
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-kb-insert]");
    if (!button) { return; }
    var panel = button.closest("[data-kb-panel]");
    var area = panel && document.getElementById(panel.dataset.target);
    if (!area) { return; }
    e.preventDefault();
    insert(area, button.dataset.text || "");
    var status = panel.querySelector("[data-kb-status]");
    if (status) { status.textContent = panel.dataset.inserted || ""; }
    button.disabled = true;
    record(panel, button).then(function (data) {
      var usage = button.parentNode.querySelector("[data-kb-usage]");
      if (data && usage) {
        usage.textContent = (panel.dataset.usedLabel || "{n}").replace("{n}", data.usage_count);
      }
    }).catch(function () { /* the text is in the reply; only the count is missing */ }).then(function () {
      button.disabled = false;
    });
  });
})();
