// coinslot pages: progressive enhancement only. Every page works without this file
// (plain forms, POST-redirect-GET); with it, buttons show progress, the pricing
// toggle switches without a reload, the credits total updates as you type, and the
// toast after Checkout hides itself and leaves a clean URL behind.
(function () {
  "use strict";

  // Buttons: a form submits once, and its button says what is happening.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitted === "1") { event.preventDefault(); return; }
    var confirmText = form.getAttribute("data-confirm");
    if (confirmText && !window.confirm(confirmText)) { event.preventDefault(); return; }
    form.dataset.submitted = "1";
    var button = event.submitter || form.querySelector("button[type=submit], button:not([type])");
    if (button) {
      button.setAttribute("aria-busy", "true");
      button.setAttribute("aria-disabled", "true");
      if (button.dataset.loading) { button.textContent = button.dataset.loading; }
    }
  });
  // Coming back with the browser's back button (bfcache) must not leave a button spinning.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitted]").forEach(function (form) { delete form.dataset.submitted; });
    document.querySelectorAll("button[aria-busy]").forEach(function (button) {
      button.removeAttribute("aria-busy");
      button.removeAttribute("aria-disabled");
      if (button.dataset.label) { button.textContent = button.dataset.label; }
    });
  });
  document.querySelectorAll("button[data-loading]").forEach(function (button) {
    button.dataset.label = button.textContent;
  });

  // Pricing: monthly / yearly without a reload (the links still work without JS).
  var toggle = document.querySelector("[data-interval-toggle]");
  if (toggle) {
    toggle.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-interval]");
      if (!link) { return; }
      event.preventDefault();
      var interval = link.dataset.interval;
      toggle.querySelectorAll("a[data-interval]").forEach(function (other) {
        other.setAttribute("aria-current", other === link ? "true" : "false");
      });
      document.querySelectorAll("[data-for-interval]").forEach(function (element) {
        element.hidden = element.dataset.forInterval !== interval;
      });
      history.replaceState(null, "", link.getAttribute("href"));
    });
  }

  // Buy credits: the total as you type, from integer minor units (no float money).
  document.querySelectorAll("[data-credits-form]").forEach(function (credits) {
    var input = credits.querySelector("input[name=quantity]");
    var total = credits.querySelector("[data-total]");
    var hint = credits.querySelector("[data-minimum-hint]");
    var submit = credits.querySelector("button[type=submit]");
    var unit = parseInt(credits.dataset.unitMinor, 10);
    var minimumQuantity = parseInt(credits.dataset.minQuantity, 10);
    var exponent = parseInt(credits.dataset.exponent, 10);
    var symbol = credits.dataset.symbol;
    var code = credits.dataset.currency;
    var format = function (minor) {
      var negative = minor < 0;
      var digits = String(Math.abs(minor));
      var major = digits;
      var fraction = "";
      if (exponent > 0) {
        digits = digits.padStart(exponent + 1, "0");
        major = digits.slice(0, -exponent);
        fraction = "." + digits.slice(-exponent);
      }
      major = major.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
      var text = major + fraction;
      text = symbol ? symbol + text : text + " " + code;
      return (negative ? "-" : "") + text;
    };
    var update = function () {
      var quantity = parseInt(input.value, 10);
      var valid = Number.isInteger(quantity) && quantity >= minimumQuantity && quantity <= parseInt(input.max, 10);
      total.textContent = Number.isInteger(quantity) && quantity > 0 ? format(quantity * unit) : "—";
      hint.classList.toggle("notice", !valid);
      hint.classList.toggle("warn", !valid);
      submit.setAttribute("aria-disabled", valid ? "false" : "true");
      submit.disabled = !valid;
    };
    input.addEventListener("input", update);
    update();
  });

  // Toast after a redirect: shown by the server, hidden after a while; the URL loses its one-off parameters.
  var toast = document.querySelector("[data-toast]");
  if (toast) {
    var close = toast.querySelector("button");
    var hide = function () {
      toast.classList.add("is-hiding");
      window.setTimeout(function () { toast.hidden = true; }, 450);
    };
    if (close) { close.addEventListener("click", hide); }
    window.setTimeout(hide, 8000);
  }
  var url = new URL(window.location.href);
  var oneOff = ["checkout_status", "session_id", "toast", "token", "back"];
  var dirty = oneOff.some(function (name) { return url.searchParams.has(name); });
  if (dirty) {
    oneOff.forEach(function (name) { url.searchParams.delete(name); });
    history.replaceState(null, "", url.pathname + (url.search || "") + url.hash);
  }
})();
