/* The console's own script (layout.html loads it after htmx). A file, not an inline
   <script>: the Content-Security-Policy (anshin.web.headers) allows no inline script. */
/* Live countdown for every [data-due] element: no build step, survives htmx swaps
   because each tick looks the elements up again (R4/R5 due and overdue timers). */
(function () {
  var left = document.body.dataset.timerLeft, over = document.body.dataset.timerOver;
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function fmt(s) {
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return (h > 0 ? h + ":" + pad(m) : "" + m) + ":" + pad(sec);
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) { return; }
      var secs = Math.round((due - now) / 1000), late = secs < 0;
      var text = el.querySelector(".timer-text") || el;
      text.textContent = (late ? over : left).replace("{time}", fmt(Math.abs(secs)));
      el.classList.toggle("overdue", late);
      el.classList.toggle("soon", !late && secs <= 300);
      var row = el.closest("[data-due-row]");
      if (row) { row.classList.toggle("overdue", late); }
    });
  }
  tick();
  setInterval(tick, 1000);
})();
/* The compose box asks before a template replaces texts only once the agent has typed. */
document.addEventListener("input", function (e) {
  var form = e.target.closest && e.target.closest("[data-compose]");
  /* A switch (kind, the affected-customers choice) is no typed text. */
  if (form && !e.target.hasAttribute("data-compose-switch")) { form.dataset.edited = "1"; }
});
document.addEventListener("htmx:confirm", function (e) {
  var elt = e.detail.elt, form = document.querySelector("[data-compose]");
  if (elt.hasAttribute("data-compose-switch") && !(form && form.dataset.edited)) {
    e.preventDefault();
    e.detail.issueRequest(true);
  }
});
/* Ctrl+Enter (⌘+Enter) in a [data-ctrl-enter] text area saves its form: the phone form is typed during a call. */
document.addEventListener("keydown", function (e) {
  var area = e.target;
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && area.matches && area.matches("textarea[data-ctrl-enter]") && area.form) {
    e.preventDefault();
    area.form.requestSubmit();
  }
});
