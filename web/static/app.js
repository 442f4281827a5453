// sakuin: small enhancements only; every page works without this file.
"use strict";

(function () {
  document.documentElement.classList.add("js");

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

  // Facet checkboxes and the sort menu apply at once (their buttons are for no-JS use).
  document.addEventListener("change", function (event) {
    var form = event.target && event.target.form;
    if (form && form.classList.contains("js-autosubmit")) form.submit();
  });

  // On a phone the facet panel starts folded, so the results come first.
  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.querySelector(".facet-panel");
    if (panel && window.matchMedia("(max-width: 59.99rem)").matches) panel.open = false;
  });

  // Suggestions while typing: a WAI-ARIA combobox over GET /api/suggest.
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("q");
    var list = document.getElementById("q-suggest");
    if (!box || !list || !box.dataset.suggest) return;
    box.setAttribute("role", "combobox");
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-controls", "q-suggest");
    box.setAttribute("aria-expanded", "false");
    var timer = null;
    var active = -1;
    var items = [];
    var latest = 0;

    function close() {
      list.hidden = true;
      list.textContent = "";
      items = [];
      active = -1;
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
    }

    function mark(index) {
      active = index;
      items.forEach(function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
      if (index >= 0) box.setAttribute("aria-activedescendant", items[index].id);
      else box.removeAttribute("aria-activedescendant");
    }

    function choose(index) {
      var li = items[index];
      if (!li) return;
      if (li.dataset.doc) {
        window.location.href = li.dataset.doc;
        return;
      }
      box.value = li.dataset.text;
      close();
      box.form.submit();
    }

    function show(suggestions) {
      close();
      if (!suggestions.length) return;
      suggestions.forEach(function (s, i) {
        var li = document.createElement("li");
        li.id = "q-suggest-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.dataset.text = s.text;
        if (s.kind === "title" && s.doc_id) li.dataset.doc = "/doc/" + encodeURIComponent(s.doc_id).replace(/%2F/g, "/");
        li.appendChild(document.createTextNode(s.text));
        if (s.kind === "title") {
          var kind = document.createElement("span");
          kind.className = "kind";
          kind.textContent = "文書";
          li.appendChild(kind);
        }
        li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(i); });
        list.appendChild(li);
        items.push(li);
      });
      list.hidden = false;
      box.setAttribute("aria-expanded", "true");
    }

    function fetchSuggestions() {
      var text = box.value;
      if (!text.trim()) { close(); return; }
      var ticket = ++latest;
      fetch(box.dataset.suggest + "?q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) { if (ticket === latest && document.activeElement === box) show(data.suggestions || []); })
        .catch(function () { close(); });
    }

    box.addEventListener("input", function (event) {
      if (event.isComposing) return;  // wait for the IME to commit
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, 150);
    });
    box.addEventListener("compositionend", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, 150);
    });
    box.addEventListener("keydown", function (event) {
      if (event.isComposing || list.hidden) return;
      if (event.key === "ArrowDown") { event.preventDefault(); mark((active + 1) % items.length); }
      else if (event.key === "ArrowUp") { event.preventDefault(); mark(active <= 0 ? items.length - 1 : active - 1); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(active); }
      else if (event.key === "Escape") { event.stopPropagation(); close(); }
    });
    box.addEventListener("blur", function () { setTimeout(close, 100); });
  });
})();
