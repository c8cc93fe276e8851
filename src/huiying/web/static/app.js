// Huiying workspace behaviour: keyboard shortcuts, macros, bulk selection, live updates.
// Plain JavaScript, no build step; loaded from our own origin (the CSP allows nothing else).
(function () {
  "use strict";

  function typing(event) {
    const el = event.target;
    return el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  }

  function rows() {
    return Array.from(document.querySelectorAll("tr.row"));
  }

  let current = -1;
  function select(index) {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((row, i) => row.classList.toggle("current", i === current));
    all[current].scrollIntoView({ block: "nearest" });
  }

  let pendingG = false;
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const key = event.key;
    if (pendingG) {
      pendingG = false;
      if (key === "l") { window.location.href = "/tickets"; }
      return;
    }
    if (key === "g") { pendingG = true; return; }
    if (key === "/") {
      const search = document.getElementById("search");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
    } else if (key === "j") {
      select(current + 1);
    } else if (key === "k") {
      select(current - 1);
    } else if ((key === "o" || key === "Enter") && current >= 0) {
      const link = rows()[current].querySelector("td.num a");
      if (link) window.location.href = link.href;
    } else if (key === "x" && current >= 0) {
      const box = rows()[current].querySelector("input[type=checkbox]");
      if (box) box.checked = !box.checked;
    } else if (key === "r" || key === "n") {
      const body = document.getElementById("reply-body");
      const internal = document.getElementById("internal");
      if (body) {
        event.preventDefault();
        if (internal) { internal.checked = key === "n"; internal.dispatchEvent(new Event("change")); }
        body.focus();
      }
    } else if (key === "?") {
      const dialog = document.getElementById("shortcuts");
      if (dialog && dialog.showModal) dialog.showModal();
    }
  });

  document.addEventListener("click", function (event) {
    const target = event.target.closest("[data-action]");
    if (!target) return;
    const action = target.dataset.action;
    if (action === "shortcuts") {
      const dialog = document.getElementById("shortcuts");
      if (dialog && dialog.showModal) dialog.showModal();
    } else if (action === "reload") {
      event.preventDefault();
      window.location.reload();
    } else if (action === "select-all") {
      document.querySelectorAll("input[name=numbers]").forEach((box) => { box.checked = target.checked; });
    }
  });

  document.addEventListener("change", function (event) {
    const el = event.target;
    if (el.id === "macro" && el.value) {
      // Insert the macro's text (already filled in by the server for this ticket).
      const option = el.selectedOptions[0];
      const body = document.getElementById("reply-body");
      if (option && body) {
        const text = option.dataset.text || "";
        const start = body.selectionStart || body.value.length;
        body.value = body.value.slice(0, start) + text + body.value.slice(body.selectionEnd || start);
        body.focus();
      }
      el.value = "";
    } else if (el.id === "internal") {
      const button = document.getElementById("send-reply");
      const form = document.getElementById("reply-form");
      if (button) button.textContent = el.checked ? button.dataset.noteLabel || "+" : button.dataset.replyLabel || button.textContent;
      if (form) form.classList.toggle("internal", el.checked);
    } else if (el.id === "category-picker") {
      // Public form: show only the sub-categories of the chosen category.
      const sub = document.getElementById("subcategory-picker");
      if (sub) {
        Array.from(sub.querySelectorAll("option[data-parent]")).forEach((option) => {
          option.hidden = option.dataset.parent !== el.value;
        });
        sub.value = "";
      }
    }
  });

  // Live updates: the server streams ticket activity; lists offer a refresh, an open ticket
  // page reloads when someone else changes it.
  function live() {
    if (!window.EventSource || !document.body.dataset.csrf) return;
    const page = document.querySelector(".ticket[data-number]");
    const banner = document.getElementById("live-banner");
    if (!page && !banner) return;
    const source = new EventSource("/live");
    source.addEventListener("ticket", function (message) {
      let data;
      try { data = JSON.parse(message.data); } catch (e) { return; }
      if (page) {
        if (data.number === page.dataset.number && !data.mine) window.location.reload();
      } else if (banner) {
        banner.hidden = false;
        document.title = "● " + document.title.replace(/^● /, "");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const button = document.getElementById("send-reply");
    if (button) {
      button.dataset.replyLabel = button.textContent;
      button.dataset.noteLabel = button.closest("form").dataset.noteLabel || "添加备注 / Add note";
    }
    live();
  });
})();
