// OpenNRM's only script: starts GOV.UK Frontend's components and the idle-timeout warning.
// Every page works without it.
import { initAll } from "./govuk-frontend.min.js";

initAll();

function startTimeoutWarning(dialog) {
  const idle = Number(dialog.dataset.idleSeconds) * 1000;
  const warning = Number(dialog.dataset.warningSeconds) * 1000;
  const countdown = dialog.querySelector(".app-timeout-dialog__countdown");
  const csrf = dialog.querySelector("input[name=csrfmiddlewaretoken]").value;
  let deadline = Date.now() + idle;
  let timer = null;

  const describe = (ms) => {
    const seconds = Math.max(0, Math.ceil(ms / 1000));
    if (seconds >= 60) {
      const minutes = Math.ceil(seconds / 60);
      return `${minutes} minute${minutes === 1 ? "" : "s"}`;
    }
    return `${seconds} second${seconds === 1 ? "" : "s"}`;
  };

  const tick = () => {
    const left = deadline - Date.now();
    if (left <= 0) {
      window.location.href = dialog.dataset.signedOutUrl;
      return;
    }
    if (left <= warning) {
      if (!dialog.open) dialog.showModal();
      countdown.textContent = describe(left);
    }
    timer = window.setTimeout(tick, 1000);
  };

  dialog.querySelector("[data-action=stay]").addEventListener("click", async () => {
    const response = await fetch(dialog.dataset.keepaliveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrf },
      credentials: "same-origin",
    });
    if (!response.ok) {
      window.location.href = dialog.dataset.signedOutUrl;
      return;
    }
    deadline = Date.now() + idle;
    dialog.close();
    window.clearTimeout(timer);
    tick();
  });

  tick();
}

const dialog = document.getElementById("session-timeout");
if (dialog) startTimeoutWarning(dialog);
