// Long work shows progress: poll [data-progress-url] until the run is done, then reload for the verdict.
(function () {
  var box = document.querySelector("[data-progress-url]");
  if (!box || box.dataset.done === "true") return;
  function tick() {
    fetch(box.dataset.progressUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (s) {
        var percent = s.total ? Math.floor(100 * s.checked / s.total) : 0;
        box.querySelector("[data-field=checked]").textContent = s.checked;
        box.querySelector("[data-field=total]").textContent = s.total;
        box.querySelector(".progress-bar").style.width = percent + "%";
        box.querySelector(".progress").setAttribute("aria-valuenow", percent);
        if (s.status === "passed" || s.status === "failed" || s.status === "error") { window.location.reload(); }
        else { setTimeout(tick, 1000); }
      }).catch(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 500);
})();
