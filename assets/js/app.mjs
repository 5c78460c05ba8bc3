// OpenNRM's only script: starts GOV.UK Frontend's components and the idle-timeout warning.
// Every page works without it.
import { initAll } from "./govuk-frontend.min.js";

initAll();

// The session ends after a while without a request, whichever tab made it. So every tab of this
// browser shares the time of the latest one (a page loaded, "Stay signed in", an answer saved
// as it is typed) through localStorage, and counts down from that: a tab left open on one page
// neither warns nor signs out while another is in use.
const ACTIVITY_KEY = "opennrm:last-activity";
const activity = {
  local: Date.now(),
  latest() {
    let shared = 0;
    try {
      shared = Number(window.localStorage.getItem(ACTIVITY_KEY)) || 0;
    } catch {
      // Storage refused (a privacy setting): this tab counts on its own.
    }
    return Math.max(this.local, shared);
  },
  note() {
    this.local = Date.now();
    try {
      window.localStorage.setItem(ACTIVITY_KEY, String(this.local));
    } catch {
      // As above.
    }
  },
};

function startTimeoutWarning(dialog) {
  const idle = Number(dialog.dataset.idleSeconds) * 1000;
  const warning = Number(dialog.dataset.warningSeconds) * 1000;
  const countdown = dialog.querySelector(".app-timeout-dialog__countdown");
  const csrf = dialog.querySelector("input[name=csrfmiddlewaretoken]").value;
  const signOut = dialog.querySelector("form[data-idle-sign-out]");
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
    const left = activity.latest() + idle - Date.now();
    if (left <= 0) {
      // A POST with the CSRF token; the server still keeps the session if another tab used it.
      signOut.submit();
      return;
    }
    if (left <= warning) {
      if (!dialog.open) dialog.showModal();
      countdown.textContent = describe(left);
    } else if (dialog.open) {
      // Another tab, or an answer saved here, renewed the session meanwhile.
      dialog.close();
    }
    timer = window.setTimeout(tick, 1000);
  };

  dialog.querySelector("[data-action=stay]").addEventListener("click", async () => {
    const response = await fetch(dialog.dataset.keepaliveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrf },
      credentials: "same-origin",
      redirect: "manual",
    });
    if (response.status !== 204) {
      // The session has already ended (the answer is a redirect to sign in).
      window.location.href = dialog.dataset.signedOutUrl;
      return;
    }
    activity.note();
    dialog.close();
    window.clearTimeout(timer);
    tick();
  });

  tick();
}

const dialog = document.getElementById("session-timeout");
if (dialog) {
  activity.note();
  startTimeoutWarning(dialog);
}

// Referral pages save each answer the moment it is given, not only on "Save and continue",
// so closing the tab or losing the connection loses nothing already chosen or typed.
function autosave(form) {
  const status = document.createElement("p");
  status.className = "govuk-body-s app-autosave-status";
  status.setAttribute("role", "status");
  form.append(status);
  let pending = null;

  const save = async () => {
    const response = await fetch(form.action || window.location.href, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Autosave": "1" },
      credentials: "same-origin",
      redirect: "manual",
    });
    // 204: saved. Anything else (a redirect to sign in once the session has ended) is not.
    if (response.status === 204) {
      activity.note();
      form.dataset.saved = "true";
      status.textContent = "Your answers have been saved.";
    } else {
      status.textContent = "Your answers could not be saved just now. Use Save and continue.";
    }
  };

  form.addEventListener("change", () => {
    form.dataset.saved = "false";
    window.clearTimeout(pending);
    pending = window.setTimeout(save, 300);
  });
}

document.querySelectorAll("form[data-autosave]").forEach(autosave);
