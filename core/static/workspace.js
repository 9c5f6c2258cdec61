// The supervisor's workspace (supervision/workspace.html): each opening in progress shows its status, key
// shares and decryption progress, polled from the hall's state (/tender/sections/<id>/opening/state).
(function () {
  var rows = document.querySelectorAll("[data-state-url]");
  if (!rows.length) return;
  function field(row, name, text) { row.querySelector("[data-field=" + name + "]").textContent = text; }
  function refresh(row) {
    fetch(row.dataset.stateUrl, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (state) {
      var o = state.opening;
      if (!o) { field(row, "status", state.section.status_label); return; }
      var released = o.keyholders.filter(function (k) { return k.released; }).length;
      field(row, "status", o.status_label);
      field(row, "shares", released + " / " + o.threshold);
      field(row, "progress", o.progress.total ? o.progress.done + " / " + o.progress.total : "—");
    }).catch(function () { field(row, "status", "?"); });
  }
  function tick() { rows.forEach(refresh); }
  tick();
  setInterval(tick, 5000);
})();
