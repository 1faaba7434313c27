// Light progressive enhancement; every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // "Make a download link": fetch it in place instead of leaving the page.
  for (const form of document.querySelectorAll("form.js-link")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const out = form.querySelector(".link-out");
      const response = await fetch(form.action, { method: "POST", body: new FormData(form) });
      if (!response.ok) { out.textContent = response.status; return; }
      const data = await response.json();
      out.textContent = data.url;
    });
  }
  // Unchecking "active" asks once: a deactivated official gets no more tasks or reminders.
  for (const box of document.querySelectorAll("input[name=active]")) {
    box.addEventListener("change", () => {
      if (!box.checked && !window.confirm(box.closest("label").textContent.trim() + " ?")) {
        box.checked = true;
      }
    });
  }
});
