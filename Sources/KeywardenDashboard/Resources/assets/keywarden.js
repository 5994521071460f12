// Keywarden dashboard: progressive touches only. Every page works without this script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: <button data-copy="#element-id">.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.querySelector(button.dataset.copy);
      if (!source) return;
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = "Copied";
      } catch {
        window.getSelection().selectAllChildren(source);
        button.textContent = "Press Ctrl+C to copy";
      }
    });
  }

  // Leaving for the payment provider's page: <a data-follow> is followed at once (a form's
  // answer may not redirect off this site, a script may).
  const follow = document.querySelector("a[data-follow]");
  if (follow) window.location.assign(follow.href);

  // Confirmations: <form data-confirm="Question?">; a button marked data-no-confirm (one that
  // leads to a page of its own) sends the form without asking.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (event.submitter && event.submitter.hasAttribute("data-no-confirm")) return;
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  // Countdowns: <button data-available-at="unix seconds"> stays disabled until then.
  for (const button of document.querySelectorAll("button[data-available-at]")) {
    const availableAt = Number(button.dataset.availableAt) * 1000;
    const label = button.dataset.label || button.textContent;
    const tick = () => {
      const left = Math.ceil((availableAt - Date.now()) / 1000);
      if (left > 0) {
        button.disabled = true;
        button.textContent = `${label} (${left}s)`;
        window.setTimeout(tick, 1000);
      } else {
        button.disabled = false;
        button.textContent = label;
      }
    };
    tick();
  }

  // Switchers submit on change; the button stays for browsers without this script.
  for (const select of document.querySelectorAll(".switcher select")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
});

// API keys: a Rotate or Revoke form confirmed above says so (confirmed=yes), so the server acts
// at once; without this script the server asks on a confirmation page first.
document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("form[data-confirm] input[data-confirmed]")) {
    input.form.addEventListener("submit", (event) => {
      const asked = !(event.submitter && event.submitter.hasAttribute("data-no-confirm"));
      if (!event.defaultPrevented) input.value = asked ? "yes" : "";
    });
  }
});
