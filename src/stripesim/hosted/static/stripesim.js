// stripesim's hosted pages work without this file. It only helps:
// - card tiles: say what the chosen test card will do, next to the tiles;
// - forms: the pressed button says "Processing…" and the form cannot be sent twice.
(function () {
  "use strict";

  function describeChoice(group) {
    var out = group.querySelector("[data-chosen-card]");
    var chosen = group.querySelector("input[type=radio]:checked");
    if (!out || !chosen || !chosen.dataset.cardLabel) return;
    out.textContent = "Chosen: " + chosen.dataset.cardLabel + " (" + chosen.dataset.cardOutcome + ")";
  }

  document.querySelectorAll(".tiles-group").forEach(function (group) {
    describeChoice(group);
    group.addEventListener("change", function () { describeChoice(group); });
  });

  var forms = document.querySelectorAll("form[method=post]");
  forms.forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitting) { event.preventDefault(); return; }
      form.dataset.submitting = "1";
      var button = event.submitter;
      if (button && button.dataset.busyLabel) {
        // Change the text, not `disabled`: the pressed button's name and value must be sent.
        button.dataset.idleLabel = button.textContent;
        button.textContent = button.dataset.busyLabel;
        button.setAttribute("aria-busy", "true");
      }
    });
  });

  // Back from the next page (back/forward cache): the form can be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    forms.forEach(function (form) {
      delete form.dataset.submitting;
      form.querySelectorAll("[aria-busy=true]").forEach(function (button) {
        button.textContent = button.dataset.idleLabel;
        button.removeAttribute("aria-busy");
      });
    });
  });
})();
