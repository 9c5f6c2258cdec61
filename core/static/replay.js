// The replay of an opening (supervision/replay.html): one step at a time, with a slider and previous/next
// buttons. Without this script every step shows, one under the other.
(function () {
  var steps = document.querySelectorAll(".replay-step");
  var controls = document.getElementById("replay-controls");
  if (!steps.length || !controls) return;
  var slider = document.getElementById("replay-slider");
  var position = document.getElementById("replay-position");
  function show(index) {
    index = Math.max(0, Math.min(steps.length - 1, index));
    steps.forEach(function (step, i) { step.hidden = i !== index; });
    slider.value = index;
    position.textContent = (index + 1) + " / " + steps.length;
  }
  controls.hidden = false;
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10)); });
  document.getElementById("replay-prev").addEventListener("click", function () { show(parseInt(slider.value, 10) - 1); });
  document.getElementById("replay-next").addEventListener("click", function () { show(parseInt(slider.value, 10) + 1); });
  document.addEventListener("keydown", function (event) {
    if (event.target.closest("input, textarea, select")) return;
    if (event.key === "ArrowLeft") show(parseInt(slider.value, 10) - 1);
    if (event.key === "ArrowRight") show(parseInt(slider.value, 10) + 1);
  });
  var hash = window.location.hash && document.querySelector(window.location.hash + ".replay-step");
  show(hash ? parseInt(hash.dataset.step, 10) : steps.length - 1);
})();
