/* Behaviour shared by every page, kept in this file so that pages need no
   inline script (a strict Content-Security-Policy allows only 'self').
   Everything here is an enhancement: without scripts the pages still work.

   - A table's scrolling box (.table-wrap) that is too narrow for its table
     becomes a focusable, named region, so that it scrolls from the keyboard.
   - A form with data-confirm="question" asks before it is sent (removals,
     revocations, cancellations).
   - A form with data-busy="text" says it is working once sent, and is not
     sent twice (a matching proposal can take a minute). */
(function () {
  "use strict";

  function scrollBoxes() {
    document.querySelectorAll(".table-wrap").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        var caption = box.querySelector("caption");
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        if (caption && caption.textContent.trim()) {
          box.setAttribute("aria-label", caption.textContent.trim());
        }
        box.dataset.scrolls = "1";
      } else if (!scrolls && box.dataset.scrolls) {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
        delete box.dataset.scrolls;
      }
    });
  }

  function confirmBeforeSending(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  }

  function showWhileBusy(form) {
    var status = document.createElement("p");
    status.className = "busy-status";
    status.setAttribute("role", "status");
    form.appendChild(status);
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("aria-busy") === "true") {
        event.preventDefault();  // already on its way
        return;
      }
      form.setAttribute("aria-busy", "true");
      status.textContent = form.getAttribute("data-busy");
      form.querySelectorAll("[type=submit]").forEach(function (button) {
        button.setAttribute("aria-disabled", "true");
      });
    });
  }

  document.querySelectorAll("form[data-confirm]").forEach(confirmBeforeSending);
  document.querySelectorAll("form[data-busy]").forEach(showWhileBusy);
  scrollBoxes();
  window.addEventListener("resize", scrollBoxes);
}());
