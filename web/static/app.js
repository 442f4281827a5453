// sakuin: small enhancements only; every page works without this file.
"use strict";

(function () {
  function typingInField(target) {
    if (!target || !(target instanceof Element)) return false;
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  // "/" focuses the search box (GitHub/Google style), unless the user is typing somewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (typingInField(event.target)) return;
    var box = document.getElementById("q");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  // Escape leaves the search box, so "/" and page keys work again.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.target && event.target.id === "q") event.target.blur();
  });

  // Do not submit an empty query: keep the user where they are.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("search-form")) return;
    var box = form.querySelector("input[name=q]");
    if (box && !box.value.trim()) {
      event.preventDefault();
      box.focus();
    }
  });
})();
