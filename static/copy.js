/* Copy buttons: a button with data-copy="ID" copies the value of the input
   with that id. Shown only when scripts run; the input stays selectable. */
(function () {
  "use strict";

  function announce(button, text) {
    var status = document.querySelector(".copy-status");
    if (status) {
      status.textContent = "";
      status.textContent = text;
    }
    var label = button.textContent;
    button.textContent = text;
    window.setTimeout(function () { button.textContent = label; }, 2000);
  }

  function fallback(input) {
    input.focus();
    input.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function copy(button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) {
      return;
    }
    var done = function () { announce(button, button.getAttribute("data-copied") || "OK"); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () {
        if (fallback(input)) { done(); }
      });
    } else if (fallback(input)) {
      done();
    }
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { copy(button); });
  });
  document.querySelectorAll("input[readonly].code").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
}());
